package device

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

func TestBitmap(t *testing.T) {
	b := NewBitmap(20)
	if len(b) != 3 {
		t.Fatalf("len %d", len(b))
	}
	for _, i := range []int{0, 1, 2, 9, 19} {
		b.Set(i)
	}
	if b[0] != 0x07 || b[1] != 0x02 || b[2] != 0x08 || b.Count() != 5 || !b.Has(9) || b.Has(8) || b.Has(40) {
		t.Fatalf("bitmap %x", []byte(b))
	}
	o, req, ok := b.missingFrom(20, 1024)
	// Missing: 3-8, 10-18; from 3: bits 0-5 and 7-15.
	if !ok || o != 3 || req.Count() != 15 || req.Has(6) || !req.Has(0) || !req.Has(15) || req.Has(16) {
		t.Fatalf("o=%d req=%x", o, []byte(req))
	}
	if _, req, _ := b.missingFrom(20, 4); len(req) != 1 || req[0] != 0x0f {
		t.Fatalf("bounded %x", []byte(req))
	}
	for i := 0; i < 20; i++ {
		b.Set(i)
	}
	if _, _, ok := b.missingFrom(20, 1024); ok {
		t.Fatal("complete bitmap reports missing blocks")
	}
}

func TestReceiverOutOfOrder(t *testing.T) {
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i)
	}
	r := newReceiver(1000, 256, sha256.New(), true)
	for _, i := range []int{3, 1, 1, 0, 2} {
		p := data[i*256 : min((i+1)*256, 1000)]
		if _, err := r.add(i, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.add(2, data[:10]); err == nil {
		t.Fatal("a short block was accepted")
	}
	if _, err := r.add(4, data[:10]); err == nil {
		t.Fatal("a block past the end was accepted")
	}
	want := sha256.Sum256(data)
	if !r.done() || !bytes.Equal(r.digest(), want[:]) || !bytes.Equal(r.keep, data) || r.bytes != 1000 || len(r.ahead) != 0 {
		t.Fatalf("done=%v bytes=%d", r.done(), r.bytes)
	}
}

func TestGetRequestCBORKeys(t *testing.T) {
	raw := EncodeGet(GetRequest{C: "x", F: 1, L: 4096, O: 2, N: 8, B: []byte{0xff}})
	var m map[string]any
	if err := cbor.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != 6 || m["f"] != uint64(1) || m["l"] != uint64(4096) || m["n"] != uint64(8) || !bytes.Equal(m["b"].([]byte), []byte{0xff}) {
		t.Fatalf("%v", m)
	}
	d, err := cbor.Marshal(map[string]any{"f": 1, "l": 3, "i": 7, "p": []byte("abc")})
	if err != nil {
		t.Fatal(err)
	}
	blk, err := DecodeData(d)
	if err != nil || blk.I != 7 || string(blk.P) != "abc" {
		t.Fatalf("%+v %v", blk, err)
	}
}

const goodDoc = `{"afr_ota":{"protocols":["MQTT","HTTP"],"streamname":"AFR_OTA-x","files":[{"filepath":"/fw.bin","filesize":366816,"fileid":0,"certfile":"ecdsa.crt","fileType":0,"update_data_url":"https://s3/x","auth_scheme":"aws.s3.presigned","sig-sha256-ecdsa":"MEUCIQ=="}]}}`

func TestParseJobDocument(t *testing.T) {
	d, err := ParseJobDocument([]byte(goodDoc))
	if err != nil {
		t.Fatal(err)
	}
	f := d.File
	if !d.HasProtocol("http") || d.StreamName != "AFR_OTA-x" || f.FileSize != 366816 || f.CertFile != "ecdsa.crt" ||
		f.SigKey != "sig-sha256-ecdsa" || len(f.Signature) != 4 || f.FileType == nil || f.UpdateDataURL != "https://s3/x" || d.Files != 1 {
		t.Fatalf("%+v", d)
	}
	bad := map[string]string{
		"not json":     `{`,
		"no afr_ota":   `{"operation":"reboot"}`,
		"no protocols": strings.Replace(goodDoc, `"protocols":["MQTT","HTTP"],`, "", 1),
		"empty protos": strings.Replace(goodDoc, `["MQTT","HTTP"]`, `[]`, 1),
		"no files":     `{"afr_ota":{"protocols":["MQTT"],"files":[]}}`,
		"no size":      strings.Replace(goodDoc, `"filesize":366816,`, "", 1),
		"zero size":    strings.Replace(goodDoc, `366816`, `0`, 1),
		"string size":  strings.Replace(goodDoc, `366816`, `"366816"`, 1),
		"no fileid":    strings.Replace(goodDoc, `"fileid":0,`, "", 1),
		"big fileid":   strings.Replace(goodDoc, `"fileid":0,`, `"fileid":256,`, 1),
		"no certfile":  strings.Replace(goodDoc, `"certfile":"ecdsa.crt",`, "", 1),
		"no sig":       strings.Replace(goodDoc, `,"sig-sha256-ecdsa":"MEUCIQ=="`, "", 1),
		"bad sig":      strings.Replace(goodDoc, `MEUCIQ==`, `!!`, 1),
		"odd sig alg":  strings.Replace(goodDoc, `sig-sha256-ecdsa`, `sig-sha384-ecdsa`, 1),
	}
	for name, doc := range bad {
		var pe *ParseError
		if _, err := ParseJobDocument([]byte(doc)); !errors.As(err, &pe) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseJobDocument([]byte(`{"x":1}`)); err != ErrNotOTA {
		t.Errorf("not OTA: %v", err)
	}
}

func certFor(t *testing.T, k crypto.Signer) *x509.Certificate {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "s"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestVerify(t *testing.T) {
	file := []byte("firmware image")
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ec, rc := certFor(t, ek), certFor(t, rk)
	d256 := sha256.Sum256(file)
	d1 := sha1.Sum(file)
	esig, _ := ek.Sign(rand.Reader, d256[:], crypto.SHA256)
	rsig256, _ := rk.Sign(rand.Reader, d256[:], crypto.SHA256)
	rsig1, _ := rk.Sign(rand.Reader, d1[:], crypto.SHA1)
	ok := []struct {
		cert *x509.Certificate
		key  string
		sig  []byte
	}{{ec, "sig-sha256-ecdsa", esig}, {rc, "sig-sha256-rsa", rsig256}, {rc, "sig-sha1-rsa", rsig1}}
	for _, c := range ok {
		if err := VerifyFile(c.cert, c.key, file, c.sig); err != nil {
			t.Errorf("%s: %v", c.key, err)
		}
		if err := VerifyFile(c.cert, c.key, append(file, '!'), c.sig); !errors.Is(err, ErrSignatureCheck) {
			t.Errorf("%s tampered: %v", c.key, err)
		}
	}
	if err := VerifyFile(rc, "sig-sha256-ecdsa", file, esig); !errors.Is(err, ErrBadSignerCert) {
		t.Errorf("ECDSA signature with an RSA certificate: %v", err)
	}
	if err := VerifyFile(nil, "sig-sha256-ecdsa", file, esig); !errors.Is(err, ErrBadSignerCert) {
		t.Errorf("no certificate: %v", err)
	}
	// Trust: by name, else the default.
	pemOf := func(c *x509.Certificate) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	tr, err := TrustPEM(pemOf(ec))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Add("rsa.crt", pemOf(rc)); err != nil {
		t.Fatal(err)
	}
	if !tr.Lookup("rsa.crt").Equal(rc) || !tr.Lookup("other").Equal(ec) || (*Trust)(nil).Lookup("x") != nil {
		t.Fatal("lookup")
	}
	if _, err := TrustPEM([]byte("junk")); err == nil {
		t.Fatal("junk PEM trusted")
	}
	_ = base64.StdEncoding
}

func TestFaultsAreDeterministic(t *testing.T) {
	f := Faults{CorruptRate: 0.5, OfflineRate: 0.5, Seed: 42}
	a, b := newDice(42, "dev-1"), newDice(42, "dev-1")
	for i := 0; i < 20; i++ {
		if a.forDownload(f, 100) != b.forDownload(f, 100) || a.chance(0.3) != b.chance(0.3) {
			t.Fatal("same seed, different faults")
		}
	}
	c := newDice(42, "dev-2")
	same := true
	for i := 0; i < 20; i++ {
		if a.chance(0.5) != c.chance(0.5) {
			same = false
		}
	}
	if same {
		t.Fatal("two devices drew the same faults")
	}
	if newDice(1, "x").chance(0) {
		t.Fatal("chance(0) was true")
	}
}
