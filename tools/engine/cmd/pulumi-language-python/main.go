// Command pulumi-language-python is a minimal Pulumi language host for Python
// programs, written for datagol-pulumi.
//
// Why it exists: the upstream host (module
// github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) is not
// obtainable from the Go module proxy we can reach, and get.pulumi.com /
// GitHub release downloads are not reachable either. Our programs only use
// dynamic providers, so the host needs to do little:
//
//   - Run: start `pulumi-language-python-exec` (upstream's own script, which
//     scripts/ensure-pulumi copies next to this binary from the sdk/v3 module)
//     as `<python> <script> --flags... PROGRAM ARGS...`, with the interpreter
//     of the project, handing over the engine/monitor addresses and the stack
//     config the way that script expects (flags + PULUMI_CONFIG /
//     PULUMI_CONFIG_SECRET_KEYS).
//   - Cancel (the engine's answer to a first Ctrl-C): interrupt the running
//     program as the upstream host does, so that what the tests see is what
//     users of Pulumi's distribution see.
//   - GetRequiredPackages/GetRequiredPlugins: report nothing, so the engine
//     never tries to download a plugin. The dynamic provider plugin
//     (`pulumi-resource-pulumi-python`) is "bundled": the engine finds it next
//     to the `pulumi` binary.
//   - RunPlugin (plugin.go): run a Python plugin folder (PulumiPlugin.yaml) or
//     policy pack (PulumiPolicy.yaml, `pulumi preview --policy-pack`) in its
//     virtualenv, streaming its output and exit code back to the engine.
//   - InstallDependencies (install.go; `pulumi install`, plugin installs):
//     create a plugin's or policy pack's virtualenv from requirements.txt /
//     pyproject.toml with pip (the only step that may use the network: pip's
//     package index); a program's ambient interpreter is never installed into.
//   - everything else the CLI may call on a normal up/preview/refresh/destroy
//     (Handshake, GetPluginInfo, About, GetProgramDependencies,
//     RuntimeOptionsPrompts) answers cheaply and without touching the network.
//
// Protocol: the engine starts us with its gRPC address as the last positional
// argument (possibly preceded by --tracing, --logtostderr, -v=N), and reads
// the port we listen on from the first line of our stdout.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	sdkversion "github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// fallbackVersion is reported by GetPluginInfo when the build did not stamp
// the SDK's version.Version (scripts/ensure-pulumi stamps it with -ldflags -X,
// the same variable that gives the `pulumi` CLI its version).
const fallbackVersion = "3.274.1"

func pluginVersion() string {
	if v := strings.TrimPrefix(sdkversion.Version, "v"); v != "" {
		return v
	}
	return fallbackVersion
}

const (
	execName = "pulumi-language-python-exec"

	// Exit code used by the exec script (and the upstream one) to say "the
	// error has already been shown to the user": the engine must bail without
	// printing anything else.
	exitCodeErrorAlreadyReported = 32
)

func main() {
	// Flags the engine may pass (see buildPluginArguments in the Pulumi SDK),
	// plus the ones the upstream host accepts, so that any invocation that
	// works with upstream also parses here.
	// Some of them (-v, -logtostderr) are already registered by packages we
	// import (glog); defining them twice panics, so only add what is missing.
	defineString("tracing", "Zipkin-compatible tracing endpoint (handed on to the program)")
	defineString("v", "log verbosity")
	defineBool("logtostderr", "log to stderr")
	defineBool("logflow", "(ignored)")
	flag.String("virtualenv", "", "(obsolete, use runtime.options.virtualenv in Pulumi.yaml)")
	flag.String("root", "", "(obsolete)")
	flag.String("typechecker", "", "(obsolete)")
	flag.String("toolchain", "", "(obsolete)")
	useExecutor := flag.String("use-executor", "", "path of the exec script to use instead of the one next to this binary")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()

	if *showVersion {
		fmt.Println(pluginVersion())
		return
	}
	// InitLogging picks -v and -logtostderr up from the parsed flags.
	logging.InitLogging(false, 0, false)

	execPath, err := findExecutor(*useExecutor)
	if err != nil {
		fatal(err)
	}

	var engineAddress string
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cancel := make(chan bool)
	go func() {
		<-ctx.Done()
		stop()
		close(cancel)
	}()

	if engineAddress != "" {
		// Exit on our own if the engine goes away without killing us.
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, stop); err != nil {
			fatal(fmt.Errorf("could not start engine health check: %w", err))
		}
	}

	host := newLanguageHost(execPath, engineAddress, flagValue("tracing"))
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fatal(fmt.Errorf("could not start language host RPC server: %w", err))
	}

	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		fatal(fmt.Errorf("language host RPC stopped serving: %w", err))
	}
}

func defineString(name, usage string) {
	if flag.Lookup(name) == nil {
		flag.String(name, "", usage)
	}
}

func flagValue(name string) string {
	if f := flag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

func defineBool(name, usage string) {
	if flag.Lookup(name) == nil {
		flag.Bool(name, false, usage)
	}
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
	os.Exit(1)
}

// findExecutor locates the exec script: explicit flag, then next to this
// binary (symlinks resolved), then $PATH.
func findExecutor(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	if self, err := os.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(self); err == nil {
			self = resolved
		}
		candidate := filepath.Join(filepath.Dir(self), execName)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		}
	}
	if p, err := exec.LookPath(execName); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("cannot find %s next to this binary or on $PATH", execName)
}

// programStopGrace is how long a program interrupted by Cancel may take to
// exit before it is killed: 5 s, as in the upstream host.
const programStopGrace = 5 * time.Second

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	exec    string
	tracing string

	// cancelled is done once the engine has called Cancel. Like upstream's,
	// it is never reset: every program still running is interrupted, and a
	// Run that comes later fails at once.
	cancelled context.Context
	cancel    context.CancelFunc

	mu            sync.Mutex
	engineAddress string
}

func newLanguageHost(execPath, engineAddress, tracing string) *languageHost {
	cancelled, cancel := context.WithCancel(context.Background())
	return &languageHost{
		exec: execPath, tracing: tracing, engineAddress: engineAddress,
		cancelled: cancelled, cancel: cancel,
	}
}

func (h *languageHost) Handshake(
	ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: pluginVersion()}, nil
}

// GetRequiredPackages reports no packages: a program whose resources all come
// from dynamic providers needs no resource plugin, and reporting none is what
// keeps the engine from ever trying to download one.
func (h *languageHost) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *languageHost) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *languageHost) GetProgramDependencies(
	context.Context, *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *languageHost) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// Cancel is what the engine sends on the user's first Ctrl-C (the engine
// itself then lets the resource operations in flight finish). Running programs
// get SIGINT, then SIGKILL if still alive programStopGrace later; see Run.
func (h *languageHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.cancel()
	return &emptypb.Empty{}, nil
}

func (h *languageHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	py, err := resolvePython(req.GetInfo())
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, py.bin, "--version")
	cmd.Env = py.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("running %s --version: %w", py.bin, err)
	}
	return &pulumirpc.AboutResponse{
		Executable: py.bin,
		Version:    strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "Python ")),
	}, nil
}

// Run executes the program: `<python> pulumi-language-python-exec --flags... <entry point> <args...>`,
// the command line upstream's host builds (no -u either: the script flushes on exit).
func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	py, err := resolvePython(req.GetInfo())
	if err != nil {
		// Shown to the user as a normal program error.
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	h.mu.Lock()
	engineAddress := h.engineAddress
	h.mu.Unlock()

	args := []string{h.exec}
	flagArg := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flagArg("monitor", req.GetMonitorAddress())
	flagArg("engine", engineAddress)
	flagArg("project", req.GetProject())
	flagArg("root_directory", req.GetInfo().GetRootDirectory())
	flagArg("stack", req.GetStack())
	flagArg("pwd", req.GetPwd())
	flagArg("dry_run", strconv.FormatBool(req.GetDryRun()))
	flagArg("parallel", strconv.Itoa(int(req.GetParallel())))
	flagArg("tracing", h.tracing)
	flagArg("organization", req.GetOrganization())

	entry := req.GetInfo().GetEntryPoint()
	if entry == "" {
		entry = req.GetProgram() //nolint:staticcheck // older engines only send this
	}
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	env := py.env
	config, err := json.Marshal(nonNilMap(req.GetConfig()))
	if err != nil {
		return nil, fmt.Errorf("serializing config: %w", err)
	}
	secretKeys, err := json.Marshal(nonNilSlice(req.GetConfigSecretKeys()))
	if err != nil {
		return nil, fmt.Errorf("serializing config secret keys: %w", err)
	}
	env = append(env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))

	logging.V(5).Infof("language host running %s %s", py.bin, strings.Join(args, " "))

	// The program is stopped when the engine calls Cancel or when this call
	// ends (the engine hung up). It gets SIGINT first, as from a Ctrl-C, so
	// that its `finally` blocks run; exec.Cmd kills it (SIGKILL) if it is still
	// running programStopGrace later.
	runCtx, stopRun := context.WithCancel(h.cancelled)
	defer stopRun()
	context.AfterFunc(ctx, stopRun)
	cmd := exec.CommandContext(runCtx, py.bin, args...)
	cmd.Env = env
	// The program's output goes to our stdout/stderr, which the engine
	// forwards to the user as diagnostics.
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = programStopGrace

	runErr := cmd.Run()
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	if runErr == nil {
		return &pulumirpc.RunResponse{}, nil
	}

	var exitErr *exec.ExitError
	if !errors.As(runErr, &exitErr) {
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("could not run the Python program with %s: %v", py.bin, runErr),
		}, nil
	}
	if status, ok := exitErr.Sys().(syscall.WaitStatus); ok {
		switch {
		case status.Signaled():
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("program was terminated by signal %v", status.Signal()),
			}, nil
		case status.ExitStatus() == exitCodeErrorAlreadyReported:
			return &pulumirpc.RunResponse{Bail: true}, nil
		default:
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("program exited with non-zero exit code: %d", status.ExitStatus()),
			}, nil
		}
	}
	return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited unexpectedly: %v", exitErr)}, nil
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
