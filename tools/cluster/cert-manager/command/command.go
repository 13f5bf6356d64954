// Package command is the start-up the three cert-manager commands share, as
// upstream's cmd/{controller,webhook,cainjector}/main.go and app/ packages do it
// (cert-manager v1.21, Apache License 2.0): signal handling, logging, a cobra
// command whose flags fill the component's configuration, then feature gates,
// validation and logging options applied before Run.
//
// Not carried over: --config (a configuration file mounted from the chart's
// ConfigMap; the local kubelet does not mount volumes) and profiling.
package command

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	logsapi "k8s.io/component-base/logs/api/v1"

	"github.com/cert-manager/cert-manager/internal/apis/config/shared"
	"github.com/cert-manager/cert-manager/internal/cmd/util"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	cmutil "github.com/cert-manager/cert-manager/pkg/util"
	utilfeature "github.com/cert-manager/cert-manager/pkg/util/feature"
)

// Component describes one command.
type Component struct {
	Name string
	// AddFlags registers the flags on fs, filling the configuration.
	AddFlags func(fs *pflag.FlagSet)
	// FeatureGates and Logging point into the configuration.
	FeatureGates func() map[string]bool
	Logging      func() *logsapi.LoggingConfiguration
	// Validate checks the configuration once the flags are parsed.
	Validate func() error
	Run      func(ctx context.Context) error
	// SetupLogger, when set, is called with the root logger before the command
	// runs (controller-runtime based components hand it to ctrl.SetLogger).
	SetupLogger func()
}

// Main runs the component and exits with upstream's exit codes.
func Main(c Component) {
	ctx, exit := util.SetupExitHandler(context.Background(), util.GracefulShutdown)
	defer exit() // may call os.Exit, so deferred first

	logf.InitLogs()
	defer logf.FlushLogs()
	if c.SetupLogger != nil {
		c.SetupLogger()
	}
	ctx = logf.NewContext(ctx, logf.Log, c.Name)

	cmd := &cobra.Command{
		Use: c.Name,
		// cobra's --version ("<name> version v1.21.2"): not in upstream's
		// commands; tools/cluster/build.sh checks the version ldflags with it.
		Version:       cmutil.VersionInfo().GitVersion,
		SilenceErrors: true, // logged below
		SilenceUsage:  true,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(c.FeatureGates()); err != nil {
				return fmt.Errorf("failed to set feature gates from flags: %w", err)
			}
			if err := c.Validate(); err != nil {
				return fmt.Errorf("error validating flags: %w", err)
			}
			return logf.ValidateAndApply(c.Logging())
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			v := cmutil.VersionInfo()
			logf.FromContext(cmd.Context()).Info("starting cert-manager "+c.Name,
				"version", v.GitVersion, "git_commit", v.GitCommit, "go_version", v.GoVersion, "platform", v.Platform)
			return c.Run(cmd.Context())
		},
	}
	c.AddFlags(cmd.Flags())

	if err := cmd.ExecuteContext(ctx); err != nil {
		logf.Log.Error(err, "error executing command")
		util.SetExitCode(err)
	}
}

// Defaults is upstream's New<Component>Configuration: the versioned
// configuration defaulted by the component's scheme, converted to the
// internal type T.
func Defaults[T any](newScheme func(...serializer.CodecFactoryOptionsMutator) (*runtime.Scheme, *serializer.CodecFactory, error), versioned runtime.Object) *T {
	scheme, _, err := newScheme()
	utilruntime.Must(err)
	scheme.Default(versioned)
	cfg := new(T)
	utilruntime.Must(scheme.Convert(versioned, cfg, nil))
	return cfg
}

// AddLeaderElectionFlags registers upstream's leader election flags (the
// controller's and the cainjector's are the same).
func AddLeaderElectionFlags(fs *pflag.FlagSet, c *shared.LeaderElectionConfig) {
	fs.BoolVar(&c.Enabled, "leader-elect", c.Enabled, "Perform leader election between instances.")
	fs.StringVar(&c.Namespace, "leader-election-namespace", c.Namespace, "Namespace used to perform leader election.")
	fs.DurationVar(&c.LeaseDuration, "leader-election-lease-duration", c.LeaseDuration, "Leader election lease duration.")
	fs.DurationVar(&c.RenewDeadline, "leader-election-renew-deadline", c.RenewDeadline, "Leader election renew deadline.")
	fs.DurationVar(&c.RetryPeriod, "leader-election-retry-period", c.RetryPeriod, "Leader election retry period.")
}
