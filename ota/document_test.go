package ota

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

const (
	testStream = "AFR_OTA-3e6f1c9a-2b7d-4e55-9c1f-0a8b7c6d5e4f"
	testSig    = "MEUCIDyuNCD5LlP1crNWd/tuqGhLR00YLeXMked9fSDMYYDrAiEAoUM/Z7h4Hr9VmaTxgCJoF+cRA1KZuSXQ3UIRdOQbuFo="
)

func signedArtifact(id int, size int64, alg string) FileArtifact {
	return FileArtifact{FileID: id, Size: size, SigKey: SignatureKey(alg), Signature: testSig, CertFile: "code_sign.crt",
		Raw: &S3Location{Bucket: "fw-bucket", Key: "SignedImages/job-" + string(rune('a'+id)), Version: "v2"}}
}

func TestJobDocumentGolden(t *testing.T) {
	httpSpec := func(protocols ...string) *Spec {
		s := validSpec()
		s.Protocols = protocols
		s.PresignedURLConfig = &PresignedURLConfig{ExpiresInSec: 3600}
		return s
	}
	threeFiles := validSpec()
	threeFiles.Files = append(threeFiles.Files, threeFiles.Files[0], threeFiles.Files[0])
	threeFiles.Files[1].FileName = "/cfg.bin"
	threeFiles.Files[1].FileType = intp(2)
	threeFiles.Files[2].FileName = ""
	custom := validSpec()
	custom.Files[0].CodeSigning = customSigning()
	custom.Files[0].CodeSigning.CustomCodeSigning.HashAlgorithm = "SHA256"
	custom.Files[0].CodeSigning.CustomCodeSigning.SignatureAlgorithm = "ECDSA"
	withType := validSpec()
	withType.Files[0].FileType = intp(0)
	presigned := validSpec()
	presigned.Files[0].CodeSigning = CodeSigning{AWSSignerJobID: "4d5f-22ab"}

	cases := []struct {
		name   string
		spec   *Spec
		stream string
		files  []FileArtifact
	}{
		{"mqtt-signer-ecdsa", validSpec(), testStream, []FileArtifact{signedArtifact(0, 366816, "SHA256withECDSA")}},
		{"mqtt-signer-rsa-sha1", validSpec(), testStream, []FileArtifact{signedArtifact(0, 4096, "SHA1withRSA")}},
		{"mqtt-signer-rsa-sha256", validSpec(), testStream, []FileArtifact{signedArtifact(0, 4096, "SHA256withRSA")}},
		{"mqtt-presigned-job", presigned, testStream, []FileArtifact{signedArtifact(0, 1024, "SHA256withECDSA")}},
		{"mqtt-filetype", withType, testStream, []FileArtifact{signedArtifact(0, 1024, "SHA256withECDSA")}},
		{"http", httpSpec("HTTP"), "", []FileArtifact{signedArtifact(0, 366816, "SHA256withECDSA")}},
		{"mqtt-and-http", httpSpec("MQTT", "HTTP"), testStream, []FileArtifact{signedArtifact(0, 366816, "SHA256withECDSA")}},
		{"custom-signing", custom, testStream, []FileArtifact{{FileID: 0, Size: 2048, SigKey: CustomSignatureKey("SHA256", "ECDSA"), Signature: "MEUCIQDx", CertFile: "code_sign.crt"}}},
		{"three-files", threeFiles, testStream, []FileArtifact{
			signedArtifact(0, 1000, "SHA256withECDSA"), signedArtifact(1, 2000, "SHA256withECDSA"), signedArtifact(2, 3000, "SHA256withECDSA")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := BuildJobDocument(tc.spec, DocumentInput{StreamID: tc.stream, Region: "eu-west-1", Files: tc.files})
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(doc) {
				t.Fatalf("not JSON: %s", doc)
			}
			compareGolden(t, tc.name+".json", doc)
		})
	}
}

func compareGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ota -update to create it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), got) {
		t.Errorf("job document differs from %s:\n got: %s\nwant: %s", path, got, want)
	}
}

// TestDocumentedExample reproduces the document of DESIGN.md §4 (from a
// CreateOTAUpdate in the field), written by hand, not by -update.
func TestDocumentedExample(t *testing.T) {
	s := validSpec()
	s.Files[0].FileName = ""
	doc, err := BuildJobDocument(s, DocumentInput{StreamID: testStream, Files: []FileArtifact{{
		FileID: 0, Size: 366816, SigKey: SignatureKey("SHA256withECDSA"), Signature: testSig, CertFile: "code_sign.crt"}}})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "documented-example.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), doc) {
		t.Fatalf("got  %s\nwant %s", doc, want)
	}
}

func TestSignatureKeys(t *testing.T) {
	for alg, want := range map[string]string{
		"SHA256withECDSA": "sig-sha256-ecdsa", "SHA256withRSA": "sig-sha256-rsa", "SHA1withRSA": "sig-sha1-rsa",
	} {
		if got := SignatureKey(alg); got != want {
			t.Errorf("SignatureKey(%s) = %s, want %s", alg, got, want)
		}
	}
	for _, c := range [][3]string{{"SHA256", "ECDSA", "sig-sha256-ecdsa"}, {"SHA-256", "ECDSA", "sig-sha256-ecdsa"}, {"SHA1", "RSA", "sig-sha1-rsa"}} {
		if got := CustomSignatureKey(c[0], c[1]); got != c[2] {
			t.Errorf("CustomSignatureKey(%s, %s) = %s, want %s", c[0], c[1], got, c[2])
		}
	}
}

func TestDocumentSizeLimits(t *testing.T) {
	if w, e := CheckDocumentSize(make([]byte, 4096)); len(w) != 0 || len(e) != 0 {
		t.Errorf("4096 bytes: %v %v", w, e)
	}
	if w, e := CheckDocumentSize(make([]byte, 4097)); len(w) != 1 || len(e) != 0 {
		t.Errorf("4097 bytes should warn: %v %v", w, e)
	}
	if _, e := CheckDocumentSize(make([]byte, 32769)); len(e) != 1 {
		t.Errorf("32769 bytes should fail: %v", e)
	}
	// A plan with many long-named files goes over 4 KiB and warns.
	s := validSpec()
	for len(s.Files) < 30 {
		f := s.Files[0]
		f.FileName = "/a/long/path/on/the/device/for/this/component/firmware-image.bin"
		s.Files = append(s.Files, f)
	}
	p, err := NewPlan(s, PlanEnv{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 {
		t.Fatalf("want one size warning, got %v", p.Warnings)
	}
	// Fifty files with long names and RSA-length signatures exceed 32 KiB.
	for len(s.Files) < 50 {
		s.Files = append(s.Files, s.Files[1])
	}
	for i := range s.Files {
		s.Files[i].FileName = "/" + string(bytes.Repeat([]byte("p"), 400))
	}
	if _, err := NewPlan(s, PlanEnv{Now: testNow}); err == nil {
		t.Fatal("want a size error for a document over 32768 bytes")
	}
}
