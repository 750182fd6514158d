package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// python is the interpreter a program or plugin runs with, and the environment
// to run it in (the virtualenv activated, if any).
type python struct {
	bin  string
	env  []string
	venv string // the virtualenv's folder, "" for the ambient interpreter
}

// runtimeOptions are the `runtime.options` of Pulumi.yaml, PulumiPlugin.yaml or
// PulumiPolicy.yaml that this host understands.
type runtimeOptions struct {
	virtualenv string
	toolchain  string // "" or "pip" (the same here), or "uv"
}

func parseRuntimeOptions(info *pulumirpc.ProgramInfo) (runtimeOptions, error) {
	var ro runtimeOptions
	opts := info.GetOptions().AsMap()
	if v, ok := opts["virtualenv"]; ok {
		s, ok := v.(string)
		if !ok {
			return ro, errors.New("runtime option 'virtualenv' must be a string")
		}
		ro.virtualenv = s
	}
	if tc, ok := opts["toolchain"]; ok {
		switch tc {
		case "pip", "":
		case "uv":
			ro.toolchain = "uv"
		default:
			return ro, fmt.Errorf("runtime option toolchain=%v is not supported by this language host; "+
				"use 'pip' or 'uv', or set 'virtualenv'", tc)
		}
	}
	return ro, nil
}

// resolvePython picks the interpreter for a program:
//
//  1. runtime.options.virtualenv from Pulumi.yaml, else $PULUMI_RUNTIME_VIRTUALENV
//     (relative paths are relative to the project root); with
//     runtime.options.toolchain "uv" and no virtualenv, ".venv";
//  2. otherwise $PULUMI_PYTHON_CMD, else `python3` (then `python`) on $PATH.
//
// The returned environment activates the virtualenv as upstream's host does
// (its bin/ first on PATH, PYTHONHOME dropped, VIRTUAL_ENV set). The dynamic
// provider, started by upstream's pulumi-resource-pulumi-python, picks its
// interpreter on its own: $PULUMI_RUNTIME_VIRTUALENV (the engine's name for
// the virtualenv option; relative to the project directory, where it runs),
// ".venv" for toolchain uv, else ${PULUMI_PYTHON_CMD:-python3}.
func resolvePython(info *pulumirpc.ProgramInfo) (python, error) {
	ro, err := parseRuntimeOptions(info)
	if err != nil {
		return python{}, err
	}
	venv := ro.virtualenv
	if venv == "" {
		venv = os.Getenv("PULUMI_RUNTIME_VIRTUALENV")
	}
	if venv == "" && ro.toolchain == "uv" {
		venv = ".venv"
	}
	if venv == "" {
		return ambientPython(os.Environ())
	}
	return venvPython(venvPath(info, venv), os.Environ())
}

// resolvePluginPython picks the interpreter for a plugin or policy pack folder:
// its runtime.options.virtualenv (relative to the folder), ".venv" for toolchain
// uv, else defaultVenv: "venv" for plugins, as upstream's host does (they never
// run in the ambient interpreter), "" for policy packs (upstream runs those in
// the ambient interpreter unless they name a virtualenv). $PULUMI_RUNTIME_VIRTUALENV
// is the *program's* virtualenv and is deliberately not consulted. env is the
// environment to activate the virtualenv in.
func resolvePluginPython(info *pulumirpc.ProgramInfo, env []string, defaultVenv string) (python, error) {
	ro, err := parseRuntimeOptions(info)
	if err != nil {
		return python{}, err
	}
	venv := ro.virtualenv
	if venv == "" && ro.toolchain == "uv" {
		venv = ".venv"
	}
	if venv == "" {
		venv = defaultVenv
	}
	if venv == "" {
		return ambientPython(env)
	}
	return venvPython(venvPath(info, venv), env)
}

// venvPath makes a relative virtualenv path absolute against the root directory.
func venvPath(info *pulumirpc.ProgramInfo, venv string) string {
	if filepath.IsAbs(venv) {
		return venv
	}
	root := info.GetRootDirectory()
	if root == "" {
		root, _ = os.Getwd()
	}
	return filepath.Join(root, venv)
}

// ambientPython is $PULUMI_PYTHON_CMD, else `python3` (then `python`) on $PATH.
func ambientPython(env []string) (python, error) {
	cmd := os.Getenv("PULUMI_PYTHON_CMD")
	candidates := []string{"python3", "python"}
	if cmd != "" {
		candidates = []string{cmd}
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return python{bin: p, env: env}, nil
		}
	}
	return python{}, fmt.Errorf("no Python interpreter found (looked for %s on $PATH)",
		strings.Join(candidates, ", "))
}

// isVirtualenv: the folder has an interpreter in bin/.
func isVirtualenv(venv string) bool {
	info, err := os.Stat(filepath.Join(venv, "bin", "python"))
	return err == nil && !info.IsDir()
}

// venvPython is the virtualenv's interpreter, with env activated for it.
func venvPython(venv string, env []string) (python, error) {
	if !isVirtualenv(venv) {
		return python{}, fmt.Errorf("the virtualenv %q (runtime option 'virtualenv' or $PULUMI_RUNTIME_VIRTUALENV) "+
			"has no bin/python; create it and install the project into it (`pulumi install` does, "+
			"from requirements.txt or pyproject.toml)", venv)
	}
	return python{bin: filepath.Join(venv, "bin", "python"), env: activate(env, venv), venv: venv}, nil
}

// activate puts the virtualenv's bin/ first on PATH, sets VIRTUAL_ENV and drops
// PYTHONHOME, as `source bin/activate` would.
func activate(env []string, venv string) []string {
	bin := filepath.Join(venv, "bin")
	activated := make([]string, 0, len(env)+2)
	hasPath := false
	for _, kv := range env {
		switch {
		case strings.HasPrefix(kv, "PYTHONHOME="), strings.HasPrefix(kv, "VIRTUAL_ENV="):
		case strings.HasPrefix(kv, "PATH="):
			hasPath = true
			activated = append(activated, "PATH="+bin+string(os.PathListSeparator)+kv[len("PATH="):])
		default:
			activated = append(activated, kv)
		}
	}
	activated = append(activated, "VIRTUAL_ENV="+venv)
	if !hasPath {
		activated = append(activated, "PATH="+bin)
	}
	return activated
}
