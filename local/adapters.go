package local

import (
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/otactl/otactl/local/mqtt"
	"github.com/otactl/otactl/local/s3"
	"github.com/otactl/otactl/local/store"
)

// Adapters from the S3 service to the interfaces the other local packages
// declare for what they need of it.

// signerObjects is signer.Objects.
type signerObjects struct{ s *s3.Service }

func (o signerObjects) Versioning(bucket string) (string, error) { return o.s.Versioning(bucket) }

func (o signerObjects) Open(bucket, key, versionID string) (io.ReadCloser, int64, error) {
	obj, err := o.s.OpenObject(bucket, key, versionID)
	if err != nil {
		return nil, 0, err
	}
	return obj, obj.Size, nil
}

func (o signerObjects) Put(bucket, key string, body io.Reader, contentType string) error {
	_, err := o.s.PutObject(bucket, key, body, contentType)
	return err
}

func (o signerObjects) PutThen(bucket, key string, body io.Reader, contentType string, then func(*store.Tx) error) error {
	_, err := o.s.PutObjectThen(bucket, key, body, contentType, then)
	return err
}

// iotObjects is iot.Objects.
type iotObjects struct{ s *s3.Service }

func (o iotObjects) ObjectSize(bucket, key, version string) (int64, error) {
	oi, err := o.s.HeadObject(bucket, key, version)
	return oi.Size, err
}

func (o iotObjects) ReadObject(bucket, key string, limit int64) ([]byte, error) {
	obj, err := o.s.OpenObject(bucket, key, "")
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	return io.ReadAll(io.LimitReader(obj, limit))
}

// MQTTObjects adapts the S3 service to mqtt.Objects and mqtt.Presigner (a
// missing object or version is mqtt.ErrNotFound).
type MQTTObjects struct{ S3 *s3.Service }

type mqttObject struct{ *s3.Object }

func (o mqttObject) Size() int64 { return o.ObjectInfo.Size }

// Open opens an object version for block reads.
func (m MQTTObjects) Open(bucket, key, version string) (mqtt.Object, error) {
	obj, err := m.S3.OpenObject(bucket, key, version)
	var se *s3.Error
	if errors.As(err, &se) && se.Status == 404 {
		return nil, errors.Join(mqtt.ErrNotFound, err)
	}
	if err != nil {
		return nil, err
	}
	return mqttObject{obj}, nil
}

// PresignGet makes a presigned GET URL on the server's own address.
func (m MQTTObjects) PresignGet(bucket, key, version string, expires time.Duration) (string, error) {
	return m.S3.PresignGet(bucket, key, version, expires, "")
}

// tRetained holds the broker's retained messages (mqtt.Retained).
const tRetained = "mqtt.retained" // topic → mqtt.RetainedMessage

// MQTTRetained keeps the broker's retained messages in the store, so that
// they survive a restart like every other piece of state.
type MQTTRetained struct{ St *store.Store }

// RetainedMessages implements mqtt.Retained.
func (r MQTTRetained) RetainedMessages() ([]mqtt.RetainedMessage, error) {
	var out []mqtt.RetainedMessage
	err := r.St.List(tRetained, "", func(_ string, raw []byte) error {
		var m mqtt.RetainedMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

// SaveRetained implements mqtt.Retained.
func (r MQTTRetained) SaveRetained(m mqtt.RetainedMessage) error {
	return r.St.Put(tRetained, m.Topic, m)
}

// DeleteRetained implements mqtt.Retained.
func (r MQTTRetained) DeleteRetained(topic string) error { return r.St.Delete(tRetained, topic) }
