// The cert-manager webhook, as upstream's cmd/webhook (v1.21): the library
// exposes its flags (pkg/webhook/options) and its server
// (internal/webhook.NewCertManagerWebhookServer), so this only wires them.
package main

import (
	"context"

	"github.com/spf13/pflag"
	logsapi "k8s.io/component-base/logs/api/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/cert-manager/cert-manager/internal/apis/config/webhook/validation"
	cmwebhook "github.com/cert-manager/cert-manager/internal/webhook"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/webhook/options"

	"github.com/cert-manager/cert-manager/istio-mtls/command"
)

func main() {
	cfg, err := options.NewWebhookConfiguration()
	if err != nil {
		panic(err)
	}
	command.Main(command.Component{
		Name:         "webhook",
		AddFlags:     func(fs *pflag.FlagSet) { options.AddConfigFlags(fs, cfg) },
		FeatureGates: func() map[string]bool { return cfg.FeatureGates },
		Logging:      func() *logsapi.LoggingConfiguration { return &cfg.Logging },
		Validate:     func() error { return validation.ValidateWebhookConfiguration(cfg, nil).ToAggregate() },
		SetupLogger:  func() { ctrl.SetLogger(logf.Log) },
		Run: func(ctx context.Context) error {
			srv, err := cmwebhook.NewCertManagerWebhookServer(logf.FromContext(ctx), *cfg)
			if err != nil {
				return err
			}
			return srv.Run(ctx)
		},
	})
}
