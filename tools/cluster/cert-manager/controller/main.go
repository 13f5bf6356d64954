// The cert-manager controller, as upstream's cmd/controller (v1.21): its
// configuration defaults, the flags the Helm chart passes (plus the listen
// addresses, kubeconfig and logging), the set of enabled controllers and Run,
// without profiling, metrics TLS and --config, over the library's
// pkg/controller (each controller and issuer registers itself when imported).
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	cliflag "k8s.io/component-base/cli/flag"
	logsapi "k8s.io/component-base/logs/api/v1"

	config "github.com/cert-manager/cert-manager/internal/apis/config/controller"
	configscheme "github.com/cert-manager/cert-manager/internal/apis/config/controller/scheme"
	defaults "github.com/cert-manager/cert-manager/internal/apis/config/controller/v1alpha1"
	"github.com/cert-manager/cert-manager/internal/apis/config/controller/validation"
	"github.com/cert-manager/cert-manager/internal/controller/feature"
	"github.com/cert-manager/cert-manager/internal/pem"
	configv1alpha1 "github.com/cert-manager/cert-manager/pkg/apis/config/controller/v1alpha1"
	"github.com/cert-manager/cert-manager/pkg/controller"
	clusterissuerscontroller "github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	"github.com/cert-manager/cert-manager/pkg/healthz"
	dnsutil "github.com/cert-manager/cert-manager/pkg/issuer/acme/dns/util"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/server"
	utilfeature "github.com/cert-manager/cert-manager/pkg/util/feature"

	"github.com/cert-manager/cert-manager/istio-mtls/command"

	// Upstream's set: each package registers its controller or issuer type.
	_ "github.com/cert-manager/cert-manager/pkg/controller/acmechallenges"
	_ "github.com/cert-manager/cert-manager/pkg/controller/acmeorders"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/gateways"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/ingresses"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/acme"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/vault"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/venafi"
)

// addFlags: upstream's names and defaults for every flag the chart's
// deployment template can pass (extraArgs aside), the listen addresses and
// the client settings. Any other flag fails with "unknown flag".
func addFlags(fs *pflag.FlagSet, c *config.ControllerConfiguration) {
	fs.StringVar(&c.APIServerHost, "master", c.APIServerHost, "Optional apiserver host address to connect to.")
	fs.StringVar(&c.KubeConfig, "kubeconfig", c.KubeConfig, "Paths to a kubeconfig. Only required if out-of-cluster.")
	fs.Float32Var(&c.KubernetesAPIQPS, "kube-api-qps", c.KubernetesAPIQPS, "Maximum queries-per-second to the Kubernetes apiserver.")
	fs.IntVar(&c.KubernetesAPIBurst, "kube-api-burst", c.KubernetesAPIBurst, "Maximum burst of queries to the Kubernetes apiserver.")
	fs.StringVar(&c.ClusterResourceNamespace, "cluster-resource-namespace", c.ClusterResourceNamespace, "Namespace of the resources owned by ClusterIssuers.")
	fs.StringVar(&c.Namespace, "namespace", c.Namespace, "If set, limits cert-manager to one namespace and disables ClusterIssuers.")
	command.AddLeaderElectionFlags(fs, &c.LeaderElectionConfig.LeaderElectionConfig)
	fs.StringSliceVar(&c.Controllers, "controllers", c.Controllers, "Controllers to enable: '*' the defaults, 'foo' one, '-foo' all but one. All: "+strings.Join(defaults.AllControllers, ", "))
	fs.StringVar(&c.ACMEHTTP01Config.SolverImage, "acme-http01-solver-image", c.ACMEHTTP01Config.SolverImage, "Image of the ACME HTTP01 solver pods.")
	fs.Var(cliflag.NewMapStringString(&c.ACMEHTTP01Config.SolverExtraLabels), "acme-http01-solver-extra-labels", "Extra labels of ACME HTTP01 solver resources.")
	fs.StringVar(&c.ACMEHTTP01Config.SolverRuntimeClassName, "acme-http01-solver-runtime-class-name", c.ACMEHTTP01Config.SolverRuntimeClassName, "RuntimeClassName of ACME HTTP01 solver pods.")
	fs.StringVar(&c.IngressShimConfig.DefaultIssuerName, "default-issuer-name", c.IngressShimConfig.DefaultIssuerName, "Issuer used by ingress-shim when none is named.")
	fs.StringVar(&c.IngressShimConfig.DefaultIssuerKind, "default-issuer-kind", c.IngressShimConfig.DefaultIssuerKind, "Issuer kind used by ingress-shim when none is named.")
	fs.StringVar(&c.IngressShimConfig.DefaultIssuerGroup, "default-issuer-group", c.IngressShimConfig.DefaultIssuerGroup, "Issuer group used by ingress-shim when none is named.")
	fs.StringSliceVar(&c.ACMEDNS01Config.RecursiveNameservers, "dns01-recursive-nameservers", c.ACMEDNS01Config.RecursiveNameservers, "DNS servers for DNS01 self checks.")
	fs.BoolVar(&c.ACMEDNS01Config.RecursiveNameserversOnly, "dns01-recursive-nameservers-only", c.ACMEDNS01Config.RecursiveNameserversOnly, "Query only the recursive nameservers in DNS01 self checks.")
	fs.BoolVar(&c.EnableCertificateOwnerRef, "enable-certificate-owner-ref", c.EnableCertificateOwnerRef, "Make Certificates the owners of their Secrets.")
	fs.IntVar(&c.NumberOfConcurrentWorkers, "concurrent-workers", c.NumberOfConcurrentWorkers, "Concurrent workers of each controller.")
	fs.IntVar(&c.MaxConcurrentChallenges, "max-concurrent-challenges", c.MaxConcurrentChallenges, "Challenges processed at once.")
	fs.Var(cliflag.NewMapStringBool(&c.FeatureGates), "feature-gates", "A set of key=value pairs that describe feature gates for alpha/experimental features.")
	fs.StringVar(&c.MetricsListenAddress, "metrics-listen-address", c.MetricsListenAddress, "The host and port of the metrics endpoint.")
	fs.StringVar(&c.HealthzListenAddress, "internal-healthz-listen-address", c.HealthzListenAddress, "The host and port of the healthz server (/livez).")
	logf.AddFlags(&c.Logging, fs)
}

// enabledControllers is upstream's options.EnabledControllers.
func enabledControllers(o *config.ControllerConfiguration) sets.Set[string] {
	var disabled []string
	enabled := sets.New[string]()
	for _, c := range o.Controllers {
		switch {
		case c == "*":
			enabled.Insert(defaults.DefaultEnabledControllers...)
		case strings.HasPrefix(c, "-"):
			disabled = append(disabled, strings.TrimPrefix(c, "-"))
		default:
			enabled.Insert(c)
		}
	}
	if len(disabled) > 0 && len(enabled) == 0 {
		enabled.Insert(defaults.DefaultEnabledControllers...)
	}
	if utilfeature.DefaultFeatureGate.Enabled(feature.ExperimentalCertificateSigningRequestControllers) {
		enabled.Insert(defaults.ExperimentalCertificateSigningRequestControllers...)
	}
	if o.Namespace != "" {
		enabled.Delete(defaults.ClusterScopedControllers...)
	}
	return enabled.Delete(disabled...)
}

func contextOptions(opts *config.ControllerConfiguration) (controller.ContextOptions, error) {
	var quantities [4]resource.Quantity
	for i, q := range []string{opts.ACMEHTTP01Config.SolverResourceRequestCPU, opts.ACMEHTTP01Config.SolverResourceRequestMemory,
		opts.ACMEHTTP01Config.SolverResourceLimitsCPU, opts.ACMEHTTP01Config.SolverResourceLimitsMemory} {
		var err error
		if quantities[i], err = resource.ParseQuantity(q); err != nil {
			return controller.ContextOptions{}, fmt.Errorf("error parsing ACME HTTP01 solver resources %q: %w", q, err)
		}
	}
	nameservers := opts.ACMEDNS01Config.RecursiveNameservers
	if len(nameservers) == 0 {
		nameservers = dnsutil.RecursiveNameservers
	}
	return controller.ContextOptions{
		Kubeconfig:         opts.KubeConfig,
		KubernetesAPIQPS:   opts.KubernetesAPIQPS,
		KubernetesAPIBurst: opts.KubernetesAPIBurst,
		APIServerHost:      opts.APIServerHost,
		Namespace:          opts.Namespace,
		ACMEOptions: controller.ACMEOptions{
			HTTP01SolverResourceRequestCPU:    quantities[0],
			HTTP01SolverResourceRequestMemory: quantities[1],
			HTTP01SolverResourceLimitsCPU:     quantities[2],
			HTTP01SolverResourceLimitsMemory:  quantities[3],
			ACMEHTTP01SolverRunAsNonRoot:      opts.ACMEHTTP01Config.SolverRunAsNonRoot,
			HTTP01SolverImage:                 opts.ACMEHTTP01Config.SolverImage,
			HTTP01SolverNameservers:           opts.ACMEHTTP01Config.SolverNameservers,
			HTTP01SolverExtraLabels:           opts.ACMEHTTP01Config.SolverExtraLabels,
			HTTP01SolverRuntimeClassName:      opts.ACMEHTTP01Config.SolverRuntimeClassName,
			DNS01Nameservers:                  nameservers,
			DNS01CheckRetryPeriod:             opts.ACMEDNS01Config.CheckRetryPeriod,
			DNS01CheckAuthoritative:           !opts.ACMEDNS01Config.RecursiveNameserversOnly,
		},
		SchedulerOptions: controller.SchedulerOptions{MaxConcurrentChallenges: opts.MaxConcurrentChallenges},
		IssuerOptions: controller.IssuerOptions{
			ClusterIssuerAmbientCredentials: opts.ClusterIssuerAmbientCredentials,
			IssuerAmbientCredentials:        opts.IssuerAmbientCredentials,
			ClusterResourceNamespace:        opts.ClusterResourceNamespace,
		},
		IngressShimOptions: controller.IngressShimOptions{
			DefaultIssuerName:                 opts.IngressShimConfig.DefaultIssuerName,
			DefaultIssuerKind:                 opts.IngressShimConfig.DefaultIssuerKind,
			DefaultIssuerGroup:                opts.IngressShimConfig.DefaultIssuerGroup,
			DefaultAutoCertificateAnnotations: opts.IngressShimConfig.DefaultAutoCertificateAnnotations,
			ExtraCertificateAnnotations:       opts.IngressShimConfig.ExtraCertificateAnnotations,
			GatewayAPIExtraProtocols:          sets.New(opts.GatewayAPIConfig.ExtraProtocols...),
		},
		CertificateOptions: controller.CertificateOptions{
			EnableOwnerRef:                           opts.EnableCertificateOwnerRef,
			CopiedAnnotationPrefixes:                 opts.CopiedAnnotationPrefixes,
			CertificateRequestMinimumBackoffDuration: opts.CertificateRequestMinimumBackoffDuration,
			CertificateRequestMaximumBackoffDuration: opts.CertificateRequestMaximumBackoffDuration,
		},
		ConfigOptions: controller.ConfigOptions{
			EnableGatewayAPI:            opts.GatewayAPIConfig.Enabled,
			EnableGatewayAPIListenerSet: opts.GatewayAPIConfig.EnableListenerSet,
		},
	}, nil
}

// serveUntilDone serves srv on l and shuts it down when ctx ends.
func serveUntilDone(ctx context.Context, g *errgroup.Group, srv *http.Server, l net.Listener) {
	g.Go(func() error {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx) //nolint:contextcheck // the root context is done
	})
	g.Go(func() error {
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
}

// run is upstream's Run: metrics and healthz servers, leader election (a
// Lease), then every enabled controller and the shared informers.
func run(rootCtx context.Context, opts *config.ControllerConfiguration) error {
	rootCtx, cancel := context.WithCancel(rootCtx)
	defer cancel()
	log := logf.FromContext(rootCtx)
	g, rootCtx := errgroup.WithContext(rootCtx)

	ctxOpts, err := contextOptions(opts)
	if err != nil {
		return err
	}
	ctxFactory, err := controller.NewContextFactory(rootCtx, ctxOpts)
	if err != nil {
		return err
	}
	ctx, err := ctxFactory.Build()
	if err != nil {
		return err
	}
	l := opts.PEMSizeLimitsConfig
	pem.SetGlobalSizeLimits(pem.NewSizeLimitsFromConfig(l.MaxCertificateSize, l.MaxPrivateKeySize, l.MaxChainLength, l.MaxBundleSize))

	enabled := enabledControllers(opts)
	log.Info(fmt.Sprintf("enabled controllers: %s", sets.List(enabled)))

	metricsLn, err := server.Listen(rootCtx, "tcp", opts.MetricsListenAddress)
	if err != nil {
		return fmt.Errorf("failed to listen on prometheus address %s: %v", opts.MetricsListenAddress, err)
	}
	ctx.Metrics.SetupACMECollector(ctx.SharedInformerFactory.Acme().V1().Challenges().Lister())
	ctx.Metrics.SetupCertificateCollector(ctx.SharedInformerFactory.Certmanager().V1().Certificates().Lister())
	ctx.Metrics.SetupIssuerCollector(ctx.SharedInformerFactory.Certmanager().V1().Issuers().Lister())
	if enabled.Has(clusterissuerscontroller.ControllerName) {
		ctx.Metrics.SetupClusterIssuerCollector(ctx.SharedInformerFactory.Certmanager().V1().ClusterIssuers().Lister())
	}
	serveUntilDone(rootCtx, g, ctx.Metrics.NewServer(metricsLn), metricsLn)

	var lc net.ListenConfig
	healthzLn, err := lc.Listen(rootCtx, "tcp", opts.HealthzListenAddress)
	if err != nil {
		return fmt.Errorf("failed to listen on healthz address %s: %v", opts.HealthzListenAddress, err)
	}
	healthzServer := healthz.NewServer(opts.LeaderElectionConfig.HealthzTimeout)
	g.Go(func() error { return healthzServer.Start(rootCtx, healthzLn) })

	elected := make(chan struct{})
	if opts.LeaderElectionConfig.Enabled {
		g.Go(func() error { return leaderElection(rootCtx, opts, ctxFactory, healthzServer, elected) })
	} else {
		close(elected)
	}
	select {
	case <-rootCtx.Done():
		return g.Wait()
	case <-elected:
	}

	for name, constructor := range controller.Known() {
		if !enabled.Has(name) {
			continue
		}
		iface, err := constructor(ctxFactory)
		if err != nil {
			cancel()
			return errors.Join(fmt.Errorf("error starting controller %s: %v", name, err), g.Wait())
		}
		g.Go(func() error { return iface.Run(opts.NumberOfConcurrentWorkers, rootCtx) })
	}
	ctx.SharedInformerFactory.Start(rootCtx.Done())
	ctx.KubeSharedInformerFactory.Start(rootCtx.Done())
	ctx.HTTP01ResourceMetadataInformersFactory.Start(rootCtx.Done())
	if utilfeature.DefaultFeatureGate.Enabled(feature.ExperimentalGatewayAPISupport) && opts.GatewayAPIConfig.Enabled {
		ctx.GWShared.Start(rootCtx.Done())
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("error starting controller: %v", err)
	}
	return nil
}

// leaderElection holds upstream's Lease "cert-manager-controller"; elected is
// closed once this instance leads.
func leaderElection(ctx context.Context, opts *config.ControllerConfiguration, f *controller.ContextFactory, h *healthz.Server, elected chan struct{}) error {
	c, err := f.Build("leader-election")
	if err != nil {
		return err
	}
	id, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("error getting hostname: %v", err)
	}
	lock, err := resourcelock.NewWithLabels(resourcelock.LeasesResourceLock, opts.LeaderElectionConfig.Namespace,
		"cert-manager-controller", c.Client.CoreV1(), c.Client.CoordinationV1(),
		resourcelock.ResourceLockConfig{Identity: id + "-external-cert-manager-controller", EventRecorder: c.Recorder},
		map[string]string{"app.kubernetes.io/managed-by": "cert-manager"})
	if err != nil {
		return fmt.Errorf("error creating leader election lock: %v", err)
	}
	lost := make(chan error, 1)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   opts.LeaderElectionConfig.LeaseDuration,
		RenewDeadline:   opts.LeaderElectionConfig.RenewDeadline,
		RetryPeriod:     opts.LeaderElectionConfig.RetryPeriod,
		ReleaseOnCancel: true,
		WatchDog:        h.LeaderHealthzAdaptor,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) { close(elected) },
			OnStoppedLeading: func() {
				if ctx.Err() == nil {
					lost <- errors.New("leader election lost")
				}
			},
		},
	})
	if err != nil {
		return err
	}
	le.Run(ctx)
	select {
	case err := <-lost:
		return err
	default:
		return nil
	}
}

func main() {
	cfg := command.Defaults[config.ControllerConfiguration](configscheme.NewSchemeAndCodecs, &configv1alpha1.ControllerConfiguration{})
	command.Main(command.Component{
		Name:         "controller",
		AddFlags:     func(fs *pflag.FlagSet) { addFlags(fs, cfg) },
		FeatureGates: func() map[string]bool { return cfg.FeatureGates },
		Logging:      func() *logsapi.LoggingConfiguration { return &cfg.Logging },
		Validate:     func() error { return validation.ValidateControllerConfiguration(cfg, nil).ToAggregate() },
		Run:          func(ctx context.Context) error { return run(ctx, cfg) },
	})
}
