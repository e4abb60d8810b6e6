package cli

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/mqtt"
)

func init() { extraCommands = append(extraCommands, newLocalCmd) }

func newLocalCmd() *cobra.Command {
	var cfg local.Config
	var creds []string
	var mqttCfg mqtt.Config
	cmd := &cobra.Command{
		Use:   "local",
		Short: "Run an embedded, AWS-compatible OTA environment (S3, Signer, IoT, ACM, STS, MQTT)",
		Long: `local serves S3, Signer, IoT, ACM and STS on one HTTP port, routing each request
by the service name in its SigV4 signature, so that AWS_ENDPOINT_URL works for
every SDK and the AWS CLI at once, and an MQTT broker for devices (IoT Jobs
topics and MQTT file streams). State and objects are kept under --data-dir and
survive restarts (and kill -9).

By default any access key is accepted. --strict-auth verifies SigV4 signatures
against the --credentials key pairs (default ` + local.DefaultAccessKeyID + `:` + local.DefaultSecretAccessKey + `).
Presigned URLs are always verified.

Devices connect to the mutual-TLS listener (--mqtts-addr) with certificates
from CreateKeysAndCertificate, CreateCertificateFromCsr or a registered CA.
Every connect, publish, retain, Will, subscribe and receive is an IoT policy
evaluation over the policies attached (AttachPolicy) to the certificate and
to the thing groups of its thing, as on AWS IoT Core.

The plain listener (--mqtt-addr) is off unless given, and is for development
only: a plain client proves nothing about who it is, it only names a client
id. Every plain client is judged by the IoT policy --mqtt-plain-policy names
(create it with CreatePolicy; its default version applies) or, when none is
named, by the built-in development policy: connect as client/${iot:ClientId},
publish and receive topic/$aws/things/${iot:ClientId}/*, subscribe
topicfilter/$aws/things/${iot:ClientId}/*, no retained messages. So a plain
client named like a thing gets that thing's topics, Jobs included. A plain
client can never take over the session of a mutual-TLS client.`,
		Example: `  otactl local
  otactl local --addr 127.0.0.1:4566 --data-dir /tmp/ota --strict-auth --credentials AKID:SECRET
  otactl local --mqtt-addr 127.0.0.1:1883                              # plain MQTT, development policy
  otactl local --mqtt-addr 127.0.0.1:1883 --mqtt-plain-policy DevPolicy # plain MQTT, your policy`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, c := range creds {
				ak, sk, ok := strings.Cut(c, ":")
				if !ok || ak == "" || sk == "" {
					return invalid(fmt.Errorf("--credentials %q: want ACCESS_KEY_ID:SECRET", c))
				}
				if cfg.Credentials == nil {
					cfg.Credentials = map[string]string{}
				}
				cfg.Credentials[ak] = sk
			}
			srv, err := local.New(cfg)
			if err != nil {
				return invalid(err)
			}
			if err := srv.Start(); err != nil {
				srv.Close()
				return err
			}
			var broker *mqtt.Broker
			if mqttCfg.Addr != "" || mqttCfg.TLSAddr != "" {
				if broker, err = srv.StartMQTT(mqttCfg); err != nil {
					srv.Close()
					return err
				}
			}
			ak, sk := srv.PresignCredentials()
			c := srv.Config()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "# otactl local: serving on %s, data in %s\n", srv.URL(), c.DataDir)
			fmt.Fprintf(out, "export AWS_ENDPOINT_URL=%s\n", srv.URL())
			fmt.Fprintf(out, "export AWS_ACCESS_KEY_ID=%s\n", ak)
			fmt.Fprintf(out, "export AWS_SECRET_ACCESS_KEY=%s\n", sk)
			fmt.Fprintf(out, "export AWS_REGION=%s\n", c.Region)
			fmt.Fprintf(out, "export AWS_DEFAULT_REGION=%s # the AWS CLI v1 and boto3 read this one\n", c.Region)
			if broker != nil && broker.Addr() != "" {
				fmt.Fprintf(out, "# MQTT (plain, development): %s\n", broker.Addr())
				if mqttCfg.PlainPolicy != "" {
					fmt.Fprintf(out, "#   for development only: clients prove nothing; each is judged by IoT policy %q\n", mqttCfg.PlainPolicy)
				} else {
					fmt.Fprintf(out, "#   for development only: clients prove nothing; each gets the built-in development policy:\n")
					fmt.Fprintf(out, "#   the topics of the thing named like its client id ($aws/things/<client id>/*), no retain\n")
				}
			}
			if broker != nil && broker.TLSAddr() != "" {
				fmt.Fprintf(out, "# MQTT (mutual TLS): %s, CA certificate %s\n", broker.TLSAddr(), filepath.Join(c.DataDir, mqtt.CAFile))
			}
			if f, ok := out.(*os.File); ok {
				f.Sync()
			}
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(sig)
			select {
			case <-sig:
			case <-cmd.Context().Done():
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "otactl local: stopping")
			return srv.Close()
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", local.DefaultAddr, "address to listen on (host:port; port 0 picks a free one)")
	f.StringVar(&cfg.DataDir, "data-dir", local.DefaultDataDir, "directory holding the state and objects")
	f.StringVar(&cfg.Region, "region", local.DefaultRegion, "region the environment pretends to be (ARNs are built from it)")
	f.StringVar(&cfg.AccountID, "account-id", local.DefaultAccountID, "12-digit account id ARNs are built from")
	f.BoolVar(&cfg.StrictAuth, "strict-auth", false, "verify SigV4 signatures against --credentials and reject others")
	f.StringVar(&mqttCfg.Addr, "mqtt-addr", "", "plain MQTT listener, for development only (e.g. "+local.DefaultMQTTAddr+"; off by default): clients prove nothing, --mqtt-plain-policy judges them")
	f.StringVar(&mqttCfg.PlainPolicy, "mqtt-plain-policy", "", "IoT policy (made with CreatePolicy) applied to every plain-listener client (default: the built-in development policy, thing-scoped by client id)")
	f.StringVar(&mqttCfg.TLSAddr, "mqtts-addr", local.DefaultMQTTSAddr, "mutual-TLS MQTT listener for devices (\"\" for none)")
	f.StringArrayVar(&creds, "credentials", nil, "ACCESS_KEY_ID:SECRET key pair accepted (repeatable)")
	return cmd
}
