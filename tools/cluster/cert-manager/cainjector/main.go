// The cert-manager CA injector, as upstream's cmd/cainjector (v1.21): its
// options (configuration defaults, flags) and Run, without profiling, metrics
// TLS and --config, over the library's pkg/controller/cainjector.
package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	apiext "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	kscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	cliflag "k8s.io/component-base/cli/flag"
	logsapi "k8s.io/component-base/logs/api/v1"
	apireg "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/client/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	config "github.com/cert-manager/cert-manager/internal/apis/config/cainjector"
	configscheme "github.com/cert-manager/cert-manager/internal/apis/config/cainjector/scheme"
	"github.com/cert-manager/cert-manager/internal/apis/config/cainjector/validation"
	configv1alpha1 "github.com/cert-manager/cert-manager/pkg/apis/config/cainjector/v1alpha1"
	cmscheme "github.com/cert-manager/cert-manager/pkg/client/clientset/versioned/scheme"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"

	"github.com/cert-manager/cert-manager/istio-mtls/command"
)

// addFlags: upstream's flag names and defaults.
func addFlags(fs *pflag.FlagSet, c *config.CAInjectorConfiguration) {
	fs.StringVar(&c.Namespace, "namespace", c.Namespace, "If set, this limits the scope of cainjector to a single namespace.")
	fs.StringSliceVar(&c.IgnoreNamespaces, "ignore-namespaces", c.IgnoreNamespaces, "Comma-separated list of namespaces to ignore secrets from.")
	command.AddLeaderElectionFlags(fs, &c.LeaderElectionConfig)
	fs.BoolVar(&c.EnableDataSourceConfig.Certificates, "enable-certificates-data-source", c.EnableDataSourceConfig.Certificates, "Use Certificate resources as sources for CA data.")
	fs.BoolVar(&c.EnableInjectableConfig.ValidatingWebhookConfigurations, "enable-validatingwebhookconfigurations-injectable", c.EnableInjectableConfig.ValidatingWebhookConfigurations, "Inject CA data into annotated ValidatingWebhookConfigurations.")
	fs.BoolVar(&c.EnableInjectableConfig.MutatingWebhookConfigurations, "enable-mutatingwebhookconfigurations-injectable", c.EnableInjectableConfig.MutatingWebhookConfigurations, "Inject CA data into annotated MutatingWebhookConfigurations.")
	fs.BoolVar(&c.EnableInjectableConfig.CustomResourceDefinitions, "enable-customresourcedefinitions-injectable", c.EnableInjectableConfig.CustomResourceDefinitions, "Inject CA data into annotated CustomResourceDefinitions.")
	fs.BoolVar(&c.EnableInjectableConfig.APIServices, "enable-apiservices-injectable", c.EnableInjectableConfig.APIServices, "Inject CA data into annotated APIServices.")
	fs.Var(cliflag.NewMapStringBool(&c.FeatureGates), "feature-gates", "A set of key=value pairs that describe feature gates for alpha/experimental features.")
	fs.StringVar(&c.MetricsListenAddress, "metrics-listen-address", c.MetricsListenAddress, "The host and port of the metrics endpoint; '0' disables it.")
	logf.AddFlags(&c.Logging, fs)
	// --kubeconfig is controller-runtime's own (global) flag, which
	// ctrl.GetConfigOrDie reads: registered through a Go flag set, as upstream
	// does, never defined a second time.
	var crFlags flag.FlagSet
	ctrlconfig.RegisterFlags(&crFlags)
	crFlags.VisitAll(func(f *flag.Flag) { fs.AddGoFlag(f) })
}

func run(ctx context.Context, opts *config.CAInjectorConfiguration) error {
	log := logf.FromContext(ctx)
	// Without a user agent the server-side apply of the caBundle fails with
	// "fieldManager: Required value".
	restConfig := util.RestConfigWithUserAgent(ctrl.GetConfigOrDie(), "cainjector")

	var defaultNamespaces map[string]cache.Config
	if opts.Namespace != "" {
		defaultNamespaces = map[string]cache.Config{opts.Namespace: {}}
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(kscheme.AddToScheme(scheme))
	utilruntime.Must(cmscheme.AddToScheme(scheme))
	utilruntime.Must(apiext.AddToScheme(scheme))
	utilruntime.Must(apireg.AddToScheme(scheme))

	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme: scheme,
		Cache:  cache.Options{ReaderFailOnMissingInformer: true, DefaultNamespaces: defaultNamespaces},
		// Secrets are read directly, not cached (upstream: memory and API load).
		Client:                        client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
		LeaderElection:                opts.LeaderElectionConfig.Enabled,
		LeaderElectionNamespace:       opts.LeaderElectionConfig.Namespace,
		LeaderElectionID:              "cert-manager-cainjector-leader-election",
		LeaderElectionReleaseOnCancel: true,
		LeaderElectionLabels:          map[string]string{"app.kubernetes.io/managed-by": "cert-manager-cainjector"},
		LeaderElectionResourceLock:    resourcelock.LeasesResourceLock,
		LeaseDuration:                 &opts.LeaderElectionConfig.LeaseDuration,
		RenewDeadline:                 &opts.LeaderElectionConfig.RenewDeadline,
		RetryPeriod:                   &opts.LeaderElectionConfig.RetryPeriod,
		Metrics:                       metricsserver.Options{BindAddress: opts.MetricsListenAddress},
	})
	if err != nil {
		return fmt.Errorf("error creating manager: %v", err)
	}

	// As upstream: with Certificates as a data source, wait (up to 5 min) for
	// their CRD, which the same chart installs.
	if opts.EnableDataSourceConfig.Certificates {
		direct, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
		if err != nil {
			return fmt.Errorf("failed to create client: %w", err)
		}
		err = wait.PollUntilContextTimeout(ctx, time.Second, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
			err := direct.Get(ctx, types.NamespacedName{Name: "certificates.cert-manager.io"}, &apiext.CustomResourceDefinition{})
			if apierrors.IsNotFound(err) {
				log.Info("cainjector has been configured to watch certificates, but certificates.cert-manager.io CRD not found, retrying with a backoff...")
				return false, nil
			}
			return err == nil, err
		})
		if err != nil {
			return fmt.Errorf("error retrieving certificate.cert-manager.io CRDs: %w", err)
		}
	}

	if err := cainjector.RegisterAllInjectors(ctx, mgr, cainjector.SetupOptions{
		Namespace:                    opts.Namespace,
		IgnoreNamespaces:             opts.IgnoreNamespaces,
		EnableCertificatesDataSource: opts.EnableDataSourceConfig.Certificates,
		EnabledReconcilersFor: map[string]bool{
			cainjector.MutatingWebhookConfigurationName:   opts.EnableInjectableConfig.MutatingWebhookConfigurations,
			cainjector.ValidatingWebhookConfigurationName: opts.EnableInjectableConfig.ValidatingWebhookConfigurations,
			cainjector.APIServiceName:                     opts.EnableInjectableConfig.APIServices,
			cainjector.CustomResourceDefinitionName:       opts.EnableInjectableConfig.CustomResourceDefinitions,
		},
	}); err != nil {
		return fmt.Errorf("failed to register controllers: %w", err)
	}
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("error running manager: %v", err)
	}
	return nil
}

func main() {
	cfg := command.Defaults[config.CAInjectorConfiguration](configscheme.NewSchemeAndCodecs, &configv1alpha1.CAInjectorConfiguration{})
	command.Main(command.Component{
		Name:         "cainjector",
		AddFlags:     func(fs *pflag.FlagSet) { addFlags(fs, cfg) },
		FeatureGates: func() map[string]bool { return cfg.FeatureGates },
		Logging:      func() *logsapi.LoggingConfiguration { return &cfg.Logging },
		Validate:     func() error { return validation.ValidateCAInjectorConfiguration(cfg, nil).ToAggregate() },
		SetupLogger:  func() { ctrl.SetLogger(logf.Log) },
		Run:          func(ctx context.Context) error { return run(ctx, cfg) },
	})
}
