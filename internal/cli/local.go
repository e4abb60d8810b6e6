package cli

import (
	"errors"
	"fmt"
	"net"
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

A web console is served on the same port at /console/ (open the address in a
browser): things and groups, jobs with their configuration, live progress,
rollout timeline and executions, MQTT streams, S3 object versions and Signer
jobs. It only reads, except "cancel job" and "cancel execution". With
--strict-auth it answers loopback clients only.

Devices connect to the mutual-TLS listener (--mqtts-addr) with certificates
from CreateKeysAndCertificate, CreateCertificateFromCsr or a registered CA.
Every connect, publish, retain, Will, subscribe and receive is an IoT policy
evaluation over the policies attached (AttachPolicy) to the certificate and
to the thing groups of its thing, as on AWS IoT Core. A certificate signed
by a CA registered with auto-registration registers itself at its first
connection (JITR: PENDING_ACTIVATION and an event on
$aws/events/certificates/registered/<caCertificateId>; JITP with the CA's
provisioning template), and devices may provision themselves by claim
(fleet provisioning over MQTT); what was registered is printed on stderr.

--mqtt-wss-addr adds MQTT over WebSocket (wss://HOST:PORT/mqtt, off unless
given): the upgrade is SigV4-signed (service iotdevicegateway) as AWS IoT's
SDKs sign it, and since otactl local does not enforce IAM, each client is
judged by the IoT policy --mqtt-wss-policy names, or the development policy
below.

The plain listener (--mqtt-addr) is off unless given, and is for development
only: a plain client proves nothing about who it is, it only names a client
id. Every plain client is judged by the IoT policy --mqtt-plain-policy names
(create it with CreatePolicy; its default version applies) or, when none is
named, by the built-in development policy: connect as client/${iot:ClientId},
publish and receive topic/$aws/things/${iot:ClientId}/*, subscribe
topicfilter/$aws/things/${iot:ClientId}/*, no retained messages. So a plain
client named like a thing gets that thing's topics, Jobs included. A plain
client can never take over the session of a mutual-TLS client.

--https-addr adds an HTTPS listener serving the same services (off unless
given). Its certificate comes from the environment's CA, the one in
<data dir>/` + mqtt.CAFile + ` that the MQTT broker's certificate comes from, and covers
localhost, 127.0.0.1, ::1, the listen host and the public endpoint's host;
it is served whatever name a client asks for, also without SNI. Plain HTTP
(--addr) stays for SDKs and the AWS CLI on loopback.

Device-facing presigned URLs (the ${aws:iot:s3-presigned-url:...} of job
documents) use the public endpoint, --public-endpoint HOST[:PORT]: the name
and port devices dial, which may differ from the listen address (a name in
/etc/hosts, a port forward). With HTTPS on, the URLs are
https://<public endpoint>/<bucket>/<key>?X-Amz-... and the default public
endpoint is localhost:<https port>; a port of 443 is left out, as in S3's
URLs (--public-endpoint localhost gives https://localhost/<bucket>/<key>?...,
for a device that dials 443 or is told the port otherwise). Without HTTPS
they are http://<public endpoint>/..., by default the --addr listener.
SigV4 signs the Host header: request a URL through the host it names.

DescribeEndpoint answers, per endpointType:
  iot:Data-ATS, iot:Data  the MQTT mutual-TLS listener (the plain one if
                          there is none) as host:port, on the public
                          endpoint's host when --public-endpoint or
                          --https-addr is given (the broker's certificate
                          covers it), else on the listener's own address
  iot:Jobs                the public endpoint, where the HTTPS Jobs API
                          (iot-jobs-data) is served (https:// with
                          --https-addr, else http://)
  iot:CredentialProvider  InvalidRequestException: otactl local does not
                          serve the AWS IoT credentials provider
AWS answers a host name only; here the port is included, as the listeners
are rarely on 8883 and 443.`,
		Example: `  otactl local
  otactl local --addr 127.0.0.1:4566 --data-dir /tmp/ota --strict-auth --credentials AKID:SECRET
  otactl local --mqtt-addr 127.0.0.1:1883                              # plain MQTT, development policy
  otactl local --mqtt-addr 127.0.0.1:1883 --mqtt-plain-policy DevPolicy # plain MQTT, your policy
  otactl local --mqtt-wss-addr 127.0.0.1:8443                          # MQTT over WebSocket, SigV4
  otactl local --https-addr 127.0.0.1:4443                             # presigned URLs https://localhost:4443/...
  otactl local --https-addr 127.0.0.1:4443 --public-endpoint localhost  # https://localhost/... (devices dial 4443)`,
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
			// Bad settings are input errors (exit 2) whatever listens on
			// the machine's ports.
			if err := cfg.Check(); err != nil {
				return invalid(err)
			}
			// A taken port is found before the data directory is made.
			for _, l := range []struct{ flag, addr string }{{"--addr", orDefault(cfg.Addr, local.DefaultAddr)}, {"--https-addr", cfg.HTTPSAddr}, {"--mqtt-addr", mqttCfg.Addr}, {"--mqtts-addr", mqttCfg.TLSAddr}, {"--mqtt-wss-addr", mqttCfg.WebSocketAddr}} {
				if err := portFree(l.flag, l.addr); err != nil {
					return err
				}
			}
			cfg.Diagnostics = cmd.ErrOrStderr() // JITR/JITP outcomes, where AWS would log them
			srv, err := local.New(cfg)
			if err != nil {
				return invalid(err)
			}
			if err := srv.Start(); err != nil {
				srv.Close()
				return err
			}
			var broker *mqtt.Broker
			if mqttCfg.Addr != "" || mqttCfg.TLSAddr != "" || mqttCfg.WebSocketAddr != "" {
				if broker, err = srv.StartMQTT(mqttCfg); err != nil {
					srv.Close()
					return err
				}
			}
			ak, sk := srv.PresignCredentials()
			c := srv.Config()
			out := cmd.OutOrStdout()
			dataDir := c.DataDir
			if abs, err := filepath.Abs(dataDir); err == nil {
				dataDir = abs // state lives where otactl local was started: say where
			}
			fmt.Fprintf(out, "# otactl local: serving on %s, data in %s\n", srv.URL(), dataDir)
			fmt.Fprintf(out, "# web console: %s/console/\n", srv.URL())
			if a := srv.HTTPSAddr(); a != "" {
				fmt.Fprintf(out, "# HTTPS: https://%s, CA certificate %s\n", a, filepath.Join(c.DataDir, mqtt.CAFile))
			}
			scheme := "http"
			if srv.HTTPSAddr() != "" {
				scheme = "https"
			}
			fmt.Fprintf(out, "# presigned URLs for devices and DescribeEndpoint iot:Jobs: %s://%s\n", scheme, c.PublicEndpoint)
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
			if broker != nil && broker.WebSocketAddr() != "" {
				policy := "the built-in development policy"
				if mqttCfg.WebSocketPolicy != "" {
					policy = fmt.Sprintf("IoT policy %q", mqttCfg.WebSocketPolicy)
				}
				fmt.Fprintf(out, "# MQTT over WebSocket: wss://%s/mqtt, SigV4 (service iotdevicegateway) with the keys above; clients judged by %s\n", broker.WebSocketAddr(), policy)
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
	f.StringVar(&cfg.HTTPSAddr, "https-addr", "", "HTTPS listener for the same services (host:port, e.g. 127.0.0.1:4443; off by default), certificate from the CA in <data dir>/"+mqtt.CAFile+"; presigned URLs become https://")
	f.StringVar(&cfg.PublicEndpoint, "public-endpoint", "", "HOST[:PORT] that device-facing presigned URLs and DescribeEndpoint answers carry (default: localhost:<https port> with --https-addr, no port for 443; else the --addr listener)")
	f.StringVar(&cfg.DataDir, "data-dir", local.DefaultDataDir, "directory holding the state and objects")
	f.StringVar(&cfg.Region, "region", local.DefaultRegion, "region the environment pretends to be (ARNs are built from it)")
	f.StringVar(&cfg.AccountID, "account-id", local.DefaultAccountID, "12-digit account id ARNs are built from")
	f.BoolVar(&cfg.StrictAuth, "strict-auth", false, "verify SigV4 signatures against --credentials and reject others")
	f.StringVar(&mqttCfg.Addr, "mqtt-addr", "", "plain MQTT listener, for development only (e.g. "+local.DefaultMQTTAddr+"; off by default): clients prove nothing, --mqtt-plain-policy judges them")
	f.StringVar(&mqttCfg.PlainPolicy, "mqtt-plain-policy", "", "IoT policy (made with CreatePolicy) applied to every plain-listener client (default: the built-in development policy, thing-scoped by client id)")
	f.StringVar(&mqttCfg.TLSAddr, "mqtts-addr", local.DefaultMQTTSAddr, "mutual-TLS MQTT listener for devices (\"\" for none)")
	f.StringVar(&mqttCfg.WebSocketAddr, "mqtt-wss-addr", "", "MQTT over WebSocket (wss://HOST:PORT/mqtt, SigV4-signed as AWS IoT's clients sign it; off by default)")
	f.StringVar(&mqttCfg.WebSocketPolicy, "mqtt-wss-policy", "", "IoT policy applied to WebSocket clients, which AWS would judge by their IAM policy (default: the built-in development policy)")
	f.StringArrayVar(&creds, "credentials", nil, "ACCESS_KEY_ID:SECRET key pair accepted (repeatable)")
	return cmd
}

// portFree fails, saying what to do, when addr cannot be listened on.
func portFree(flag, addr string) error {
	if addr == "" {
		return nil
	}
	l, err := net.Listen("tcp", addr)
	if err == nil {
		return l.Close()
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%s %s is already in use (another otactl local, or LocalStack, which also uses 4566?): stop it, or pass %s with another port (port 0 picks a free one)", flag, addr, flag)
	}
	return fmt.Errorf("%s %s: %w", flag, addr, err)
}
