package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestRunArgumentsMatchCmdRunFlags(t *testing.T) {
	req := &pulumirpc.RunRequest{
		MonitorAddress: "127.0.0.1:1234",
		Organization:   "organization",
		Project:        "istio-mtls",
		Stack:          "dev",
		Pwd:            "/src",
		DryRun:         true,
		Parallel:       16,
		Args:           []string{"extra"},
		Info:           &pulumirpc.ProgramInfo{RootDirectory: "/src", ProgramDirectory: "/src", EntryPoint: "index.ts"},
	}
	got := runArguments(req, "127.0.0.1:999")
	want := []string{
		"--monitor=127.0.0.1:1234", "--engine=127.0.0.1:999", "--organization=organization",
		"--project=istio-mtls", "--root-directory=/src", "--stack=dev", "--pwd=/src", "--dry-run",
		"--parallel=16", "index.ts", "extra",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("runArguments:\n got  %q\n want %q", got, want)
	}
}

func TestRunArgumentsDefaultsEntryPointAndOmitsEmpty(t *testing.T) {
	got := runArguments(&pulumirpc.RunRequest{MonitorAddress: "m"}, "")
	want := []string{"--monitor=m", "."}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("runArguments: got %q, want %q", got, want)
	}
}

func TestParseRuntimeOptions(t *testing.T) {
	s, err := structpb.NewStruct(map[string]any{
		"typescript": false, "nodeargs": "--import=tsx  --enable-source-maps", "tsconfig": "tsconfig.json",
		"transpileOnly": true, "packagemanager": "npm",
	})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := parseRuntimeOptions(s)
	if err != nil {
		t.Fatal(err)
	}
	want := runtimeOptions{
		typescript: false, tsconfig: "tsconfig.json", transpileOnly: "true",
		nodeArgs: []string{"--import=tsx", "--enable-source-maps"},
	}
	if !reflect.DeepEqual(opts, want) {
		t.Fatalf("parseRuntimeOptions: got %+v, want %+v", opts, want)
	}
	if defaults, _ := parseRuntimeOptions(nil); !defaults.typescript {
		t.Fatal("typescript must default to true, as upstream")
	}
}

func TestParseRuntimeOptionsNamesTheBadSetting(t *testing.T) {
	s, _ := structpb.NewStruct(map[string]any{"typescript": "yes"})
	_, err := parseRuntimeOptions(s)
	if err == nil || !strings.Contains(err.Error(), "runtime.options.typescript") ||
		!strings.Contains(err.Error(), "yes") || !strings.Contains(err.Error(), "true or false") {
		t.Fatalf("error must name the option, the value and the allowed values; got %v", err)
	}
}

func TestRunEnvironmentCarriesConfig(t *testing.T) {
	req := &pulumirpc.RunRequest{
		Config:           map[string]string{"istio-mtls:production": "false"},
		ConfigSecretKeys: []string{"istio-mtls:token"},
	}
	env, err := runEnvironment(req, runtimeOptions{typescript: true, tsconfig: "t.json"})
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		values[k] = v
	}
	var config map[string]string
	if err := json.Unmarshal([]byte(values["PULUMI_CONFIG"]), &config); err != nil ||
		config["istio-mtls:production"] != "false" {
		t.Fatalf("PULUMI_CONFIG = %q", values["PULUMI_CONFIG"])
	}
	if values["PULUMI_CONFIG_SECRET_KEYS"] != `["istio-mtls:token"]` {
		t.Fatalf("PULUMI_CONFIG_SECRET_KEYS = %q", values["PULUMI_CONFIG_SECRET_KEYS"])
	}
	if values["PULUMI_NODEJS_TYPESCRIPT"] != "true" || values["PULUMI_NODEJS_TSCONFIG_PATH"] != "t.json" {
		t.Fatalf("typescript env: %q %q", values["PULUMI_NODEJS_TYPESCRIPT"], values["PULUMI_NODEJS_TSCONFIG_PATH"])
	}
	if _, set := values["PULUMI_NODEJS_TRANSPILE_ONLY"]; set {
		t.Fatal("PULUMI_NODEJS_TRANSPILE_ONLY must stay unset unless the option is given")
	}
}
