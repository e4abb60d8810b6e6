package freertos_test

import (
	"testing"

	"github.com/otactl/otactl/internal/interop/freertos"
	"github.com/otactl/otactl/local"
)

// TestMQTTDemoOTA: the AWS IoT Device SDK for Embedded C's MQTT OTA demo
// (job and image over MQTT, the image through an MQTT stream in CBOR
// blocks) completes an OTA against otactl local over mutual TLS.
func TestMQTTDemoOTA(t *testing.T) {
	src := sources(t)
	modes(t, func(t *testing.T, cfg local.Config) {
		runDemoOTA(t, src, demoCase{demo: freertos.MQTTDemo, thing: "freertos-mqtt-1", id: "freertos-mqtt", cfg: cfg})
	})
}
