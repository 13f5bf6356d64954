// Command pulumi-language-nodejs is a minimal Node.js language runtime for the
// Pulumi engine. The upstream host (module
// github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) is not
// served by the Go module proxy this project can reach, so this one implements
// the part of the LanguageRuntime gRPC service that `pulumi preview`, `up`,
// `refresh` and `destroy` use: GetPluginInfo, GetRequiredPackages and Run,
// and RunPlugin for policy packs (`--policy-pack`).
// Run starts `node @pulumi/pulumi/cmd/run` from the program's own node_modules
// with the same flags and environment the upstream host passes.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Version is set by tools/build.sh with -ldflags -X main.Version=...
var Version = "0.0.0-dev"

// exitAfterUserActionableMessage is the exit code @pulumi/pulumi/cmd/run uses
// when it has already printed an error for the user; the engine then bails
// without adding a second message.
const exitAfterUserActionableMessage = 32

func main() {
	// The engine passes its own address as the last positional argument and
	// may prepend flags (-tracing, -root, ...); unknown flags are accepted.
	flags := flag.NewFlagSet("pulumi-language-nodejs", flag.ContinueOnError)
	flags.String("tracing", "", "tracing endpoint (ignored)")
	flags.String("root", "", "project root (ignored; Run carries it)")
	showVersion := flags.Bool("version", false, "print the version and exit")
	if err := flags.Parse(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if *showVersion {
		fmt.Println(Version)
		return
	}
	engineAddress := ""
	if n := flags.NArg(); n > 0 {
		engineAddress = flags.Arg(n - 1)
	}

	cancel := make(chan bool)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, &nodeHost{engineAddress: engineAddress})
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start the gRPC server: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from the first line of stdout.
	fmt.Println(handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: gRPC server stopped: %v\n", err)
		os.Exit(1)
	}
}

type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
}

func (h *nodeHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

// GetRequiredPackages reports no packages: providers are then loaded when the
// program registers its first resource, from $PATH or PULUMI_HOME/plugins.
func (h *nodeHost) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *nodeHost) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	opts, err := parseRuntimeOptions(req.GetInfo().GetOptions())
	if err != nil {
		return nil, err
	}
	programDir := req.GetInfo().GetProgramDirectory()
	if programDir == "" {
		programDir = req.GetPwd()
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("runtime nodejs: no `node` executable on PATH (%w); put Node.js 22 first on PATH, "+
			"e.g. the project's node_modules/.bin", err)
	}
	runScript, err := resolveModule(ctx, nodeBin, programDir, "@pulumi/pulumi/cmd/run")
	if err != nil {
		return nil, err
	}

	args := append(append([]string{}, opts.nodeArgs...), runScript)
	args = append(args, runArguments(req, h.engineAddress)...)

	env, err := runEnvironment(req, opts)
	if err != nil {
		return nil, err
	}

	cmd := exec.CommandContext(ctx, nodeBin, args...)
	cmd.Dir = programDir
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	runErr := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case runErr == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(runErr, &exitErr) && exitErr.ExitCode() == exitAfterUserActionableMessage:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(runErr, &exitErr):
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
		}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not start %s: %v", nodeBin, runErr)}, nil
	}
}

// runtimeOptions are the `runtime.options` of Pulumi.yaml that this host honours.
type runtimeOptions struct {
	typescript    bool
	tsconfig      string
	nodeArgs      []string
	transpileOnly string
}

func parseRuntimeOptions(s *structpb.Struct) (runtimeOptions, error) {
	opts := runtimeOptions{typescript: true}
	for key, value := range s.AsMap() {
		switch key {
		case "typescript":
			b, ok := value.(bool)
			if !ok {
				return opts, fmt.Errorf("runtime.options.typescript: found %v (%T), allowed: true or false", value, value)
			}
			opts.typescript = b
		case "tsconfig":
			str, ok := value.(string)
			if !ok {
				return opts, fmt.Errorf("runtime.options.tsconfig: found %v (%T), allowed: a file path", value, value)
			}
			opts.tsconfig = str
		case "nodeargs":
			str, ok := value.(string)
			if !ok {
				return opts, fmt.Errorf("runtime.options.nodeargs: found %v (%T), allowed: a string of node flags",
					value, value)
			}
			opts.nodeArgs = strings.Fields(str)
		case "transpileOnly":
			b, ok := value.(bool)
			if !ok {
				return opts, fmt.Errorf("runtime.options.transpileOnly: found %v (%T), allowed: true or false",
					value, value)
			}
			opts.transpileOnly = strconv.FormatBool(b)
		default:
			// packagemanager and other install-time options do not affect Run.
		}
	}
	return opts, nil
}

// runArguments mirrors the flags @pulumi/pulumi/cmd/run parses (see its usage text).
func runArguments(req *pulumirpc.RunRequest, engineAddress string) []string {
	var args []string
	add := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name+"="+value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", engineAddress)
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	add("root-directory", req.GetInfo().GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() > 0 {
		add("parallel", strconv.Itoa(int(req.GetParallel())))
	}
	entry := req.GetInfo().GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	return append(args, req.GetArgs()...)
}

// runEnvironment passes stack config the way @pulumi/pulumi/runtime/config reads it.
func runEnvironment(req *pulumirpc.RunRequest, opts runtimeOptions) ([]string, error) {
	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, fmt.Errorf("encoding stack config: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secrets, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("encoding secret config keys: %w", err)
	}
	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secrets),
		"PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(opts.typescript),
	)
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}
	if opts.transpileOnly != "" {
		env = append(env, "PULUMI_NODEJS_TRANSPILE_ONLY="+opts.transpileOnly)
	}
	return env, nil
}

// resolveModule asks node itself where a module is, so symlinked or hoisted
// node_modules resolve exactly as they will when the program runs.
func resolveModule(ctx context.Context, nodeBin, dir, module string) (string, error) {
	cmd := exec.CommandContext(ctx, nodeBin, "-e", "process.stdout.write(require.resolve(process.argv[1]))", module)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		detail := ""
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			detail = strings.TrimSpace(string(exitErr.Stderr))
		}
		return "", fmt.Errorf("cannot find %s from %s: run `npm install` there first (%v) %s",
			module, dir, err, detail)
	}
	return filepath.Clean(string(out)), nil
}

// RunPlugin runs a Node.js plugin directory for the engine. For a policy pack
// (kind "analyzer", the only kind this project needs) that is
// `node @pulumi/pulumi/cmd/run-policy-pack <engine> .` in the pack's folder,
// as the retired `pulumi-analyzer-policy` script did; its output is streamed
// back so the engine reads the analyzer's port from the first stdout line.
func (h *nodeHost) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	if req.GetKind() != "analyzer" {
		return fmt.Errorf("runtime nodejs: plugins of kind %q are not supported by this host; allowed: analyzer (policy packs)", req.GetKind())
	}
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetProgram()
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("runtime nodejs: no `node` executable on PATH (%w)", err)
	}
	ctx := server.Context()
	runner, err := resolveModule(ctx, nodeBin, dir, "@pulumi/pulumi/cmd/run-policy-pack")
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, nodeBin, append([]string{runner}, append(req.GetArgs(), ".")...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), req.GetEnv()...)
	cmd.Stdout = streamWriter(func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	}, server)
	cmd.Stderr = streamWriter(func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	}, server)
	code := 0
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return fmt.Errorf("could not start %s: %w", nodeBin, err)
		}
		code = exitErr.ExitCode()
	}
	return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}

type streamWriterFunc func(p []byte) (int, error)

func (f streamWriterFunc) Write(p []byte) (int, error) { return f(p) }

// streamWriter sends each write as one RunPluginResponse; the gRPC stream is
// not safe for concurrent sends, so stdout and stderr share a lock.
func streamWriter(wrap func([]byte) *pulumirpc.RunPluginResponse, server pulumirpc.LanguageRuntime_RunPluginServer) streamWriterFunc {
	return func(p []byte) (int, error) {
		sendMu.Lock()
		defer sendMu.Unlock()
		if err := server.Send(wrap(append([]byte(nil), p...))); err != nil {
			return 0, err
		}
		return len(p), nil
	}
}

var sendMu sync.Mutex
