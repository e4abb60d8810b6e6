package device

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// Config is one simulated device.
type Config struct {
	// ThingName is the MQTT client id and the thing whose jobs it runs.
	ThingName string
	// Endpoint is the broker's host:port.
	Endpoint string
	// TLS, when set, connects with mutual TLS (client certificate, CA).
	TLS *tls.Config
	// Trust holds the code-signing certificates named by certfile.
	Trust *Trust

	// BlockSize is the stream block size (l); default 4096 as FreeRTOS.
	BlockSize int
	// Window is how many blocks one get request asks for (n); default 8.
	Window int
	// BitmapBlocks bounds the bitmap of a request; default 1024 blocks
	// (128 bytes, the FreeRTOS agent's bitmap size).
	BitmapBlocks int
	// RequestTimeout is how long the agent waits for the blocks of a
	// request before asking again for the ones still missing; default 2s.
	RequestTimeout time.Duration
	// MaxTries is how many requests in a row may bring nothing before the
	// download fails; default 6.
	MaxTries int
	// ProgressEvery reports IN_PROGRESS receive R/N every so many blocks;
	// default 64 (0 keeps the default; negative: never).
	ProgressEvery int

	// PreferHTTP downloads over HTTP when the document allows both.
	PreferHTTP bool
	// HTTPChunk is the size of one Range request; default 64 KiB.
	HTTPChunk int
	// HTTPClient fetches update_data_url; default a client with a timeout.
	HTTPClient *http.Client

	// ReplyTimeout bounds each wait for a Jobs answer; default 10s.
	ReplyTimeout time.Duration
	// IdleTimeout stops the agent when, after at least one job, nothing is
	// pending for this long; default 5s. An idle agent does not poll: it
	// waits for notify-next (Agent.idle says why).
	IdleTimeout time.Duration
	// FirstJobTimeout stops the agent when no job comes at all; 0 waits
	// until the context ends.
	FirstJobTimeout time.Duration
	// ExitOnSuccess stops the agent as soon as a job SUCCEEDED and nothing
	// else is pending (a fleet run).
	ExitOnSuccess bool
	// Reboot reconnects between "self_test: ready" and the self-test, as the
	// device restarting into its new image does.
	Reboot bool
	// Version is the firmware the device runs; each update adds one to Build.
	Version Version

	Faults Faults

	// KeepFiles keeps downloaded files in the result (tests).
	KeepFiles bool
	// OnBytes is told of payload bytes as they arrive (fleet progress).
	OnBytes func(n int)
	// Logger receives the agent's story; nil discards it.
	Logger *slog.Logger
}

func (c *Config) defaults() error {
	if c.ThingName == "" {
		return errors.New("device: ThingName is required")
	}
	if c.Endpoint == "" {
		return errors.New("device: Endpoint is required")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.BlockSize, 4096)
	def(&c.Window, 8)
	def(&c.BitmapBlocks, 1024)
	def(&c.MaxTries, 6)
	def(&c.HTTPChunk, 64*1024)
	if c.ProgressEvery == 0 {
		c.ProgressEvery = 64
	}
	defDur(&c.RequestTimeout, 2*time.Second)
	defDur(&c.ReplyTimeout, 10*time.Second)
	defDur(&c.IdleTimeout, 5*time.Second)
	defDur(&c.Faults.OfflineFor, time.Second)
	if c.BlockSize < 256 || c.BlockSize > 131072 {
		return errors.New("device: BlockSize must be 256-131072")
	}
	// A stream request brings at most 128 KiB.
	c.Window = min(c.Window, max(1, 131072/c.BlockSize))
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: time.Minute}
	}
	if c.Version == (Version{}) {
		c.Version = Version{Major: 1}
	}
	return nil
}
