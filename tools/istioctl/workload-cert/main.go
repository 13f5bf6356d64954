// Command workload-cert asks istiod's CA for a workload certificate the way the Istio agent does:
// a CSR for the workload's SPIFFE identity, sent over gRPC (port 15012, TLS verified against the
// mesh root) with the workload's service-account token, through Istio's own client
// (security/pkg/nodeagent/caclient/providers/citadel). It prints the returned chain as PEM, leaf
// first; the caller verifies it. Nothing here checks the answer: the test does, with openssl.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"istio.io/istio/pkg/security"
	"istio.io/istio/security/pkg/nodeagent/caclient/providers/citadel"
	pkiutil "istio.io/istio/security/pkg/pki/util"
)

// tokenFile hands the CA the service-account token, as the agent's JWT credential fetcher does.
type tokenFile string

func (t tokenFile) GetPlatformCredential() (string, error) {
	b, err := os.ReadFile(string(t))
	return strings.TrimSpace(string(b)), err
}
func (tokenFile) GetIdentityProvider() string { return "" }
func (tokenFile) Stop()                       {}

func main() {
	ca := flag.String("ca", "127.0.0.1:15012", "istiod's CA address")
	caSAN := flag.String("ca-san", "istiod.istio-system.svc", "the name istiod's serving certificate must carry")
	root := flag.String("root", "", "PEM file of the mesh root (istio-ca-root-cert) that istiod's serving certificate chains to")
	token := flag.String("token", "", "file holding the workload's service-account token (audience istio-ca)")
	identity := flag.String("identity", "", "SPIFFE identity to ask for, spiffe://<trust domain>/ns/<ns>/sa/<sa>")
	cluster := flag.String("cluster", "Kubernetes", "the ClusterID metadata the agent sends (istiod's default)")
	flag.Parse()
	if *root == "" || *token == "" || !strings.HasPrefix(*identity, "spiffe://") {
		fmt.Fprintln(os.Stderr, "workload-cert: --root, --token and --identity spiffe://... are required")
		os.Exit(2)
	}
	csr, _, err := pkiutil.GenCSR(pkiutil.CertOptions{Host: *identity, ECSigAlg: pkiutil.EcdsaSigAlg})
	if err != nil {
		fmt.Fprintf(os.Stderr, "workload-cert: CSR: %v\n", err)
		os.Exit(1)
	}
	client, err := citadel.NewCitadelClient(
		&security.Options{CAEndpoint: *ca, CAEndpointSAN: *caSAN, ClusterID: *cluster, CredFetcher: tokenFile(*token)},
		&citadel.TLSOptions{RootCert: *root},
	)
	if err != nil {
		fmt.Fprintf(os.Stderr, "workload-cert: %v\n", err)
		os.Exit(1)
	}
	defer client.Close()
	chain, err := client.CSRSign(csr, 3600)
	if err != nil {
		fmt.Fprintf(os.Stderr, "workload-cert: %v\n", err)
		os.Exit(1)
	}
	for _, pem := range chain {
		fmt.Print(strings.TrimSpace(pem) + "\n")
	}
}
