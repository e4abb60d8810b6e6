package mqtt

import (
	"sync"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
)

// reply writes a QoS 0 PUBLISH straight onto the requester's connection,
// whether or not it subscribed to the topic: AWS IoT delivers Jobs and
// stream answers to the client that asked, and to nobody else. Writing on
// the requester's own read goroutine also paces a client that asks for more
// than it reads.
func (b *Broker) reply(cl *mochi.Client, topic string, payload []byte) {
	frame := appendPublish(make([]byte, 0, len(topic)+len(payload)+8), topic, cl.Properties.ProtocolVersion == 5, payload)
	if err := writeFrame(cl, frame); err != nil {
		b.log.Debug("mqtt: reply not delivered", "client", cl.ID, "topic", topic, "error", err)
	}
}

// publish sends a message to the topic's subscribers (notifications).
func (b *Broker) publish(topic string, payload []byte) {
	if err := b.srv.Publish(topic, payload, false, 1); err != nil {
		b.log.Debug("mqtt: publish failed", "topic", topic, "error", err)
	}
}

// limiter is a token bucket per client id for the Jobs API.
type limiter struct {
	rate  float64
	burst float64
	mu    sync.Mutex
	by    map[string]*bucket
	now   func() time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	if burst < 1 {
		burst = 1
	}
	return &limiter{rate: rate, burst: float64(burst), by: map[string]*bucket{}, now: time.Now}
}

// allow takes a token for id; false means the request is throttled.
func (l *limiter) allow(id string) bool {
	if l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	bk, ok := l.by[id]
	if !ok {
		bk = &bucket{tokens: l.burst, at: now}
		l.by[id] = bk
	}
	bk.tokens = min(l.burst, bk.tokens+now.Sub(bk.at).Seconds()*l.rate)
	bk.at = now
	if bk.tokens < 1 {
		return false
	}
	bk.tokens--
	return true
}

func (l *limiter) forget(id string) {
	if l.rate <= 0 {
		return
	}
	l.mu.Lock()
	delete(l.by, id)
	l.mu.Unlock()
}
