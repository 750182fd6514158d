package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// RunPlugin runs the Python program of a plugin folder (PulumiPlugin.yaml or,
// for kind "analyzer", a policy pack's PulumiPolicy.yaml) and streams its stdout
// and stderr back to the engine, then its exit code as the last message. The
// engine reads the plugin's gRPC port from the first line of that stdout, and
// stops the plugin by ending the call: the process then gets SIGINT, and SIGKILL
// programStopGrace later. Cancel does not stop plugins (the engine cancels
// them itself, before the language hosts).
//
// How the program starts, as with upstream's host (so that plugins and policy
// packs written for Pulumi's distribution run unchanged):
//
//   - a plugin: `python <folder> ARGS...` (its __main__.py), or, with no
//     __main__.py, `python -m pulumi.run.plugin <pyproject name> ARGS...`,
//     in the engine's working directory;
//   - a policy pack: `python -u -m pulumi.policy ARGS... <folder>`, in the
//     pack's folder. pulumi-policy reads the stack (project, stack, dry run,
//     config) from the environment, which only the engine's ConfigureStack call
//     tells, after the pack must already be listening: the SDK's PolicyProxy
//     answers for the pack until then (see runPolicyPack).
//
// The interpreter: the folder's runtime.options.virtualenv, else "venv" for
// plugins and the ambient python3 for policy packs (see resolvePluginPython).
func (h *languageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	ctx := server.Context()
	if req.GetAttachDebugger() {
		return errors.New("this language host cannot start a plugin under a debugger")
	}
	info := req.GetInfo()
	dir := info.GetProgramDirectory()
	if dir == "" {
		dir = req.GetProgram() //nolint:staticcheck // older engines only send this
	}
	if dir == "" {
		return errors.New("RunPlugin: the request names no plugin folder")
	}
	analyzer := req.GetKind() == string(apitype.AnalyzerPlugin)

	// The engine sends the environment the plugin must see (its own, plus
	// what it adds for plugins).
	env := req.GetEnv()
	if len(env) == 0 {
		env = os.Environ()
	}
	defaultVenv := "venv"
	if analyzer {
		defaultVenv = ""
	}
	py, err := resolvePluginPython(info, env, defaultVenv)
	if err != nil {
		return err
	}

	var args []string
	if analyzer {
		args = append(append([]string{"-u", "-m", "pulumi.policy"}, req.GetArgs()...), dir)
	} else if args, err = pluginArgs(dir, req.GetArgs()); err != nil {
		return err
	}

	out := newOutputStream(func(stdout, stderr []byte) error {
		if stderr != nil {
			return server.Send(&pulumirpc.RunPluginResponse{
				Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: stderr},
			})
		}
		return server.Send(&pulumirpc.RunPluginResponse{
			Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: stdout},
		})
	})
	defer out.close()

	cmd := exec.CommandContext(ctx, py.bin, args...)
	cmd.Env = py.env
	cmd.Dir = req.GetPwd()
	if analyzer {
		// Where Python policy packs have always run.
		cmd.Dir = dir
	}
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = programStopGrace
	logging.V(5).Infof("language host running plugin %s: %s %v (in %s)", req.GetKind(), py.bin, args, cmd.Dir)

	var runErr error
	if analyzer {
		runErr = runPolicyPack(ctx, cmd, out)
	} else {
		cmd.Stdout, cmd.Stderr = out.stdout(), out.stderr()
		runErr = cmd.Run()
	}

	code := 0
	if runErr != nil {
		var exitErr *exec.ExitError
		if !errors.As(runErr, &exitErr) {
			return fmt.Errorf("could not run the plugin in %s with %s: %w", dir, py.bin, runErr)
		}
		// -1 if a signal ended it.
		code = exitErr.ExitCode()
	}
	out.do(func() error {
		return server.Send(&pulumirpc.RunPluginResponse{
			Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)},
		})
	})
	return nil
}

// pluginArgs is the command line of a (non-policy) plugin folder.
func pluginArgs(dir string, args []string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(dir, "__main__.py")); err == nil {
		return append([]string{dir}, args...), nil
	} else if !os.IsNotExist(err) {
		return nil, fmt.Errorf("looking for __main__.py in %s: %w", dir, err)
	}
	proj, err := readPyproject(dir)
	if err != nil {
		return nil, err
	}
	if proj == nil || proj.name() == "" {
		return nil, fmt.Errorf("the plugin in %s has neither a __main__.py nor a pyproject.toml naming its package", dir)
	}
	// The SDK's runner imports the package and serves its components (or runs
	// its __main__).
	return append([]string{"-m", "pulumi.run.plugin", proj.name()}, args...), nil
}

// runPolicyPack starts the policy pack behind the SDK's PolicyProxy and returns
// when the pack has exited (or the call ended).
//
// The proxy listens first and its port is what the engine reads; it takes the
// engine's ConfigureStack, then the pack is started with the stack in its
// environment, its own port is read from its stdout, and every later call is
// forwarded to it.
func runPolicyPack(ctx context.Context, cmd *exec.Cmd, out *outputStream) error {
	proxy, packStdout, err := sdk.NewPolicyProxy(ctx, out.stdout())
	if err != nil {
		return fmt.Errorf("could not start the policy pack proxy: %w", err)
	}
	cfg, err := proxy.AwaitConfiguration(ctx)
	if err != nil {
		return fmt.Errorf("waiting for the stack configuration: %w", err)
	}
	if cfg != nil {
		stackEnv, err := policyStackEnv(cfg)
		if err != nil {
			return err
		}
		cmd.Env = append(cmd.Env, stackEnv...)
	}
	cmd.Stdout = packStdout

	// The proxy's Attach waits for the process itself, so a failure to start
	// (a traceback, then exit before any port) could return before exec.Cmd
	// has copied all of stderr: stderr goes through a pipe of ours instead,
	// drained before we return.
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stderr = stderrW
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		_, _ = io.Copy(out.stderr(), stderrR)
		_ = stderrR.Close()
	}()
	startErr := cmd.Start()
	_ = stderrW.Close() // the child holds its own copy
	if startErr != nil {
		proxy.Abort(startErr)
		<-drained
		return startErr
	}
	attachErr := proxy.Attach(ctx, cmd)
	// EOF comes once the pack (and anything it started) has exited; a
	// grandchild that keeps stderr open does not hold the call forever.
	select {
	case <-drained:
	case <-time.After(programStopGrace):
	}
	if attachErr != nil && !errors.As(attachErr, new(*exec.ExitError)) {
		return fmt.Errorf("policy pack: %w", attachErr)
	}
	return attachErr
}

// policyStackEnv is what pulumi-policy reads to learn the stack it checks: the
// variables a program gets from the Python runtime, filled in from the
// engine's ConfigureStack request.
func policyStackEnv(cfg *pulumirpc.AnalyzerStackConfigureRequest) ([]string, error) {
	var env []string
	add := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	add("PULUMI_ORGANIZATION", cfg.GetOrganization())
	add("PULUMI_PROJECT", cfg.GetProject())
	add("PULUMI_STACK", cfg.GetStack())
	add("PULUMI_DRY_RUN", strconv.FormatBool(cfg.GetDryRun()))
	if c := cfg.GetConfig(); c != nil {
		b, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("serializing the stack configuration: %w", err)
		}
		add("PULUMI_CONFIG", string(b))
	}
	if keys := cfg.GetConfigSecretKeys(); len(keys) > 0 {
		b, err := json.Marshal(keys)
		if err != nil {
			return nil, fmt.Errorf("serializing the secret configuration keys: %w", err)
		}
		add("PULUMI_CONFIG_SECRET_KEYS", string(b))
	}
	return env, nil
}
