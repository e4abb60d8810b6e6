package mqtt

// Auto-registration at the TLS handshake (JITR/JITP): a device certificate
// that is not registered, or not yet ACTIVE, is handed to Deps.AutoRegister
// before the handshake is refused. Registering it is the registry's
// business; the broker publishes the event message the registry asks for
// ($aws/events/certificates/registered/<caCertificateId> for JITR). The
// connection is refused either way, as on AWS: the certificate was not
// ACTIVE when the device presented it, and the device connects again.

// AutoRegistrar registers or provisions an unknown device certificate.
type AutoRegistrar interface {
	// AutoRegister is given the chain the device sent (DER, the device's
	// certificate first). An error says why nothing was registered.
	AutoRegister(chain [][]byte) (AutoRegistered, error)
}

// AutoRegistered is what an auto-registration asks the broker to publish:
// a message on Topic ("" for none).
type AutoRegistered struct {
	Topic   string
	Payload []byte
}

// autoRegister runs the registrar for a certificate that cannot connect
// and publishes its event.
func (b *Broker) autoRegister(chain [][]byte) {
	if b.deps.AutoRegister == nil {
		return
	}
	r, err := b.deps.AutoRegister.AutoRegister(chain)
	if err != nil {
		b.log.Info("mqtt: certificate not auto-registered", "certificate", CertificateID(chain[0]), "reason", err)
		return
	}
	if r.Topic != "" {
		if err := b.Publish(r.Topic, r.Payload, 0, false); err != nil {
			b.log.Error("mqtt: auto-registration event not published", "topic", r.Topic, "error", err)
		}
	}
}
