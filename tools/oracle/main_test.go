package oracle

// The oracle runs as this package's test binary (`go test -c`, see build.sh):
// pilot/pkg/simulation replays calls only through a *testing.T
// (simulation.NewSimulation), and only the testing package's own runner makes
// a working one; pilot/test/xds ties the fake istiod's lifetime to t.Cleanup.
//
//   istio-mtls-oracle FILE.yaml...            one scenario, JSON on stdout
//   istio-mtls-oracle -serve                  JSON lines {"id","yaml"} in, one JSON line out each
//   istio-mtls-oracle -render-webhooks=default,canary
//                                             the chart's injection webhooks of these revisions, as YAML

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"istio.io/istio/pkg/kube/krt"
	istiolog "istio.io/istio/pkg/log"
)

var (
	serve          = flag.Bool("serve", false, "read JSON lines {\"id\",\"yaml\"} on stdin, write one JSON line per scenario")
	renderWebhooks = flag.String("render-webhooks", "", "print the MutatingWebhookConfigurations the chart renders for these revisions (comma-separated) and exit")
	// The JSON goes to the real stdout; the test runner's own lines go to stderr.
	stdout *os.File
)

// Scenario is one line of -serve input.
type Scenario struct {
	ID   string `json:"id"`
	YAML string `json:"yaml"`
}

func TestMain(m *testing.M) {
	flag.Parse()
	stdout = os.Stdout
	os.Stdout = os.Stderr
	opts := istiolog.DefaultOptions()
	opts.OutputPaths = []string{"stderr"}
	opts.ErrorOutputPaths = []string{"stderr"}
	opts.SetDefaultOutputLevel(istiolog.OverrideScopeName, istiolog.ErrorLevel)
	if err := istiolog.Configure(opts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if *renderWebhooks != "" {
		os.Exit(printWebhooks(strings.Split(*renderWebhooks, ",")))
	}
	if *serve || flag.NArg() > 0 {
		// Oracle mode runs the oracle only, not this package's own tests.
		_ = flag.Set("test.run", "^TestOracle$")
	}
	os.Exit(m.Run())
}

func printWebhooks(revisions []string) int {
	for _, rev := range revisions {
		c, err := RenderChart(strings.TrimSpace(rev))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		c.Webhook.APIVersion = "admissionregistration.k8s.io/v1"
		c.Webhook.Kind = "MutatingWebhookConfiguration"
		text, err := yamlDocs(c.Webhook)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprint(stdout, text)
	}
	return 0
}

func TestOracle(t *testing.T) {
	if !*serve && flag.NArg() == 0 {
		t.Skip("oracle mode only: give YAML files or -serve")
	}
	if !*serve {
		var docs []string
		for _, f := range flag.Args() {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, string(b))
		}
		out := run(t, "scenario", strings.Join(docs, "\n---\n"))
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			t.Fatal(err)
		}
		return
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	w := bufio.NewWriter(stdout)
	for in.Scan() {
		var s Scenario
		if err := json.Unmarshal(in.Bytes(), &s); err != nil {
			t.Fatalf("input line: %v", err)
		}
		out := run(t, s.ID, s.YAML)
		out.ID = s.ID
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
		w.WriteByte('\n')
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.Err(); err != nil {
		t.Fatal(err)
	}
}

// run evaluates one scenario in a subtest, so that the fake istiod of each is
// shut down (t.Cleanup) before the next starts; a t.Fatal inside Istio's test
// helpers ends only that subtest, and the scenario reports it as an error.
func run(t *testing.T, id, text string) Output {
	var out Output
	done := false
	t.Run(id, func(t *testing.T) {
		out = Evaluate(t, text)
		done = true
	})
	// Every krt collection of every fake istiod registers with this global debug
	// handler and stays referenced from it: without a reset, a long -serve run
	// grows by megabytes per scenario. The scenario's istiod is shut down here.
	*krt.GlobalDebugHandler = krt.DebugHandler{}
	if !done {
		return Output{Error: "Istio's test helpers failed the scenario (their message is on stderr)"}
	}
	return out
}
