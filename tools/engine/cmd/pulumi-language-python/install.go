package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/BurntSushi/toml"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// InstallDependencies (`pulumi install`, `pulumi new`, and the engine's
// installs of plugin and policy pack folders) creates the folder's virtualenv
// if it has none and installs into it, streaming what pip prints:
//
//   - the virtualenv: runtime.options.virtualenv (relative to the folder's
//     root); with none, "venv" for a plugin or policy pack (IsPlugin), as
//     upstream's host does; toolchain uv without one means ".venv" (created
//     and filled with pip all the same: this host does not run uv);
//   - `pip install -r requirements.txt` if the folder has one;
//   - `pip install <folder>` if its pyproject.toml declares a package
//     ([project] name and a [build-system] build-backend).
//
// A program that names no virtualenv is left alone: its interpreter is the
// ambient one (for this project, its own .venv), which this host never
// installs into.
func (h *languageHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	ctx := server.Context()
	out := newOutputStream(func(stdout, stderr []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stdout: stdout, Stderr: stderr})
	})
	defer out.close()

	info := req.GetInfo()
	dir := info.GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory() //nolint:staticcheck // older engines only send this
	}
	if dir == "" {
		dir, _ = os.Getwd()
	}
	if info == nil {
		info = &pulumirpc.ProgramInfo{RootDirectory: dir, ProgramDirectory: dir}
	}
	ro, err := parseRuntimeOptions(info)
	if err != nil {
		return err
	}
	venv := ro.virtualenv
	if venv == "" && ro.toolchain == "uv" {
		venv = ".venv"
	}
	if venv == "" && req.GetIsPlugin() {
		venv = "venv"
	}
	if venv == "" {
		out.print("datagol-pulumi language host: the program names no virtualenv " +
			"(runtime.options.virtualenv), so nothing is installed: its interpreter is the ambient one; " +
			"install its dependencies there yourself.\n")
		return nil
	}
	venv = venvPath(info, venv)

	if !isVirtualenv(venv) {
		base, err := ambientPython(os.Environ())
		if err != nil {
			return err
		}
		out.print(fmt.Sprintf("Creating virtual environment %s with %s...\n", venv, base.bin))
		if err := runStreamed(ctx, out, dir, base.env, base.bin, "-m", "venv", venv); err != nil {
			return fmt.Errorf("creating the virtualenv %s: %w", venv, err)
		}
	}
	py, err := venvPython(venv, os.Environ())
	if err != nil {
		return err
	}

	installed := false
	if _, err := os.Stat(filepath.Join(dir, "requirements.txt")); err == nil {
		out.print("Installing requirements.txt into " + venv + "...\n")
		if err := runStreamed(ctx, out, dir, py.env, py.bin, "-m", "pip", "install", "-r", "requirements.txt"); err != nil {
			return fmt.Errorf("installing requirements.txt: %w", err)
		}
		installed = true
	}
	proj, err := readPyproject(dir)
	if err != nil {
		return err
	}
	if proj.buildable() {
		out.print("Installing " + proj.name() + " from pyproject.toml into " + venv + "...\n")
		if err := runStreamed(ctx, out, dir, py.env, py.bin, "-m", "pip", "install", dir); err != nil {
			return fmt.Errorf("installing %s: %w", dir, err)
		}
		installed = true
	}
	if !installed {
		out.print("No requirements.txt and no buildable pyproject.toml in " + dir + ": nothing to install.\n")
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	out.print("Finished installing dependencies\n")
	return nil
}

// runStreamed runs one command in dir, its output streamed; it stops with the
// call (SIGINT, then SIGKILL programStopGrace later).
func runStreamed(ctx context.Context, out *outputStream, dir string, env []string, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out.stdout(), out.stderr()
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = programStopGrace
	return cmd.Run()
}

// pyproject is the part of a pyproject.toml this host reads.
type pyproject struct {
	Project *struct {
		Name string `toml:"name"`
	} `toml:"project"`
	BuildSystem *struct {
		BuildBackend string `toml:"build-backend"`
	} `toml:"build-system"`
}

func (p *pyproject) name() string {
	if p == nil || p.Project == nil {
		return ""
	}
	return p.Project.Name
}

// buildable: pip can build and install the folder as a package.
func (p *pyproject) buildable() bool {
	return p.name() != "" && p.BuildSystem != nil && p.BuildSystem.BuildBackend != ""
}

// readPyproject reads dir/pyproject.toml; nil if there is none.
func readPyproject(dir string) (*pyproject, error) {
	path := filepath.Join(dir, "pyproject.toml")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p pyproject
	if err := toml.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return &p, nil
}
