package policy

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Policy variables and condition keys share one namespace: ${iot:ClientId}
// in a Resource and "iot:ClientId" as a Condition key resolve the same way.
// Names match case-insensitively, as in IAM; a thing attribute's name (the
// part in brackets) is case-sensitive, as thing attributes are.
//
// Sources (AWS IoT developer guide): "Basic AWS IoT Core policy variables"
// (iot:ClientId, aws:SourceIp), "Thing policy variables"
// (iot:Connection.Thing.*), "X.509 Certificate AWS IoT Core policy
// variables" (iot:Certificate.*, iot:CertificateId), "Connect policy
// examples" (iot:ConnectAttributes, iot:LastWillTopic), and the IAM global
// keys aws:SecureTransport, aws:CurrentTime and aws:EpochTime.
//
// A key the context cannot resolve is absent. For a policy variable this
// means AWS leaves the "${...}" text in place ("the policy variable is not
// replaced ... This might cause authorization failure"); here the Resource
// entry or Condition value holding it never matches, which is the same
// outcome without letting a client whose id is literally "${...}" match.
// Evaluate names every absent key in Decision.Missing.

type keyKind uint8

const (
	kUnknown keyKind = iota
	kClientID
	kThingName
	kThingType
	kThingAttr
	kThingAttached
	kCertID
	kCertSubject   // oid
	kCertIssuer    // oid
	kCertSAN       // san
	kCertIssuerAN  // san; Go does not parse issuer alternative names: absent
	kCertSerial    // iot:Certificate.SerialNumber
	kCertAvailable // iot:Certificate.AvailableKeys
	kConnectAttrs
	kLastWillTopic
	kSourceIP
	kSecureTransport
	kCurrentTime
	kEpochTime
)

// keyRef is a parsed key or variable name.
type keyRef struct {
	name  string // as written
	kind  keyKind
	attr  string                // thing attribute name
	oid   asn1.ObjectIdentifier // certificate name attribute
	san   string                // lower-cased alternative-name field
	index int                   // ".N" suffix of a certificate attribute
	list  bool                  // ".List" suffix: all values
}

// Distinguished-name attributes AWS documents for Subject and Issuer.
var nameOIDs = map[string]asn1.ObjectIdentifier{
	"distinguishednamequalifier": {2, 5, 4, 46},
	"country":                    {2, 5, 4, 6},
	"organization":               {2, 5, 4, 10},
	"organizationalunit":         {2, 5, 4, 11},
	"state":                      {2, 5, 4, 8},
	"commonname":                 {2, 5, 4, 3},
	"serialnumber":               {2, 5, 4, 5},
	"title":                      {2, 5, 4, 12},
	"surname":                    {2, 5, 4, 4},
	"givenname":                  {2, 5, 4, 42},
	"initials":                   {2, 5, 4, 43},
	"pseudonym":                  {2, 5, 4, 65},
	"generationqualifier":        {2, 5, 4, 44},
}

var sanFields = map[string]bool{"rfc822name": true, "dnsname": true, "directoryname": true, "uniformresourceidentifier": true, "ipaddress": true}

var simpleKeys = map[string]keyKind{
	"iot:clientid":                       kClientID,
	"iot:connection.thing.thingname":     kThingName,
	"iot:connection.thing.thingtypename": kThingType,
	"iot:connection.thing.isattached":    kThingAttached,
	"iot:certificateid":                  kCertID,
	"iot:certificate.serialnumber":       kCertSerial,
	"iot:certificate.availablekeys":      kCertAvailable,
	"iot:connectattributes":              kConnectAttrs,
	"iot:lastwilltopic":                  kLastWillTopic,
	"aws:sourceip":                       kSourceIP,
	"aws:securetransport":                kSecureTransport,
	"aws:currenttime":                    kCurrentTime,
	"aws:epochtime":                      kEpochTime,
}

func parseKey(name string) keyRef {
	k := keyRef{name: name}
	lower := strings.ToLower(name)
	if kind, ok := simpleKeys[lower]; ok {
		k.kind = kind
		return k
	}
	const attrs = "iot:connection.thing.attributes["
	if strings.HasPrefix(lower, attrs) && strings.HasSuffix(name, "]") {
		k.kind, k.attr = kThingAttr, name[len(attrs):len(name)-1]
		return k
	}
	const cert = "iot:certificate."
	if !strings.HasPrefix(lower, cert) {
		return k
	}
	parts := strings.Split(lower[len(cert):], ".")
	// Subject|Issuer . [AlternativeName .] field [. N | . List]
	if len(parts) < 2 || (parts[0] != "subject" && parts[0] != "issuer") {
		return k
	}
	rest := parts[1:]
	if n := len(rest); n > 1 {
		if rest[n-1] == "list" {
			k.list, rest = true, rest[:n-1]
		} else if i, err := strconv.Atoi(rest[n-1]); err == nil && i >= 0 && rest[n-1][0] != '+' {
			k.index, rest = i, rest[:n-1]
		}
	}
	switch {
	case len(rest) == 1 && nameOIDs[rest[0]] != nil:
		k.oid = nameOIDs[rest[0]]
		k.kind = kCertSubject
		if parts[0] == "issuer" {
			k.kind = kCertIssuer
		}
	case len(rest) == 2 && rest[0] == "alternativename" && sanFields[rest[1]]:
		k.san = rest[1]
		k.kind = kCertSAN
		if parts[0] == "issuer" {
			k.kind = kCertIssuerAN
		}
	}
	return k
}

// maxCertValues and maxCertValueLen are AWS's limits on certificate policy
// variables: arrays are cut to five items, and a value over 1024 characters
// (or one holding a wildcard) is not substituted.
const (
	maxCertValues   = 5
	maxCertValueLen = 1024
)

// one resolves k to a single value.
func (k *keyRef) one(ctx *Context) (string, bool) {
	switch k.kind {
	case kClientID:
		return ctx.ClientID, true
	case kThingName, kThingType, kThingAttr:
		// Thing variables resolve only for a thing attached to the
		// connection's principal: otherwise any certificate could claim a
		// thing by naming it as client id.
		t := ctx.Thing
		if t == nil || !t.IsAttached {
			return "", false
		}
		switch k.kind {
		case kThingName:
			return t.Name, true
		case kThingType:
			return t.TypeName, t.TypeName != ""
		default:
			v, ok := t.Attributes[k.attr]
			return v, ok
		}
	case kThingAttached:
		if ctx.Thing != nil && ctx.Thing.IsAttached {
			return "true", true
		}
		return "false", true
	case kSourceIP:
		return ctx.SourceIP, ctx.SourceIP != ""
	case kSecureTransport:
		if ctx.SecureTransport {
			return "true", true
		}
		return "false", true
	case kLastWillTopic:
		return ctx.LastWillTopic, ctx.LastWillTopic != ""
	case kCurrentTime:
		if ctx.Now.IsZero() {
			return "", false
		}
		return ctx.Now.UTC().Format(time.RFC3339), true
	case kEpochTime:
		if ctx.Now.IsZero() {
			return "", false
		}
		return strconv.FormatInt(ctx.Now.Unix(), 10), true
	case kCertID:
		if ctx.CertificateID != "" {
			return ctx.CertificateID, true
		}
		if ctx.Certificate == nil {
			return "", false
		}
		sum := sha256.Sum256(ctx.Certificate.Raw)
		return hex.EncodeToString(sum[:]), true
	case kCertSerial:
		if ctx.Certificate == nil || ctx.Certificate.SerialNumber == nil {
			return "", false
		}
		return ctx.Certificate.SerialNumber.String(), true
	case kCertSubject, kCertIssuer, kCertSAN:
		if k.list {
			return "", false
		}
		return k.certValue(ctx.Certificate, k.index)
	}
	return "", false
}

// values resolves k as a condition key: one value, or all of them for a
// multi-valued key (iot:ConnectAttributes, a certificate attribute with
// ".List", iot:Certificate.AvailableKeys). buf is reused for one value.
func (k *keyRef) values(ctx *Context, buf []string) ([]string, bool) {
	switch {
	case k.kind == kConnectAttrs:
		return ctx.ConnectAttributes, true
	case k.kind == kCertAvailable:
		return availableKeys(ctx.Certificate)
	case k.list && (k.kind == kCertSubject || k.kind == kCertIssuer || k.kind == kCertSAN):
		var out []string
		for i := 0; i < maxCertValues; i++ {
			v, ok := k.certValue(ctx.Certificate, i)
			if !ok {
				break
			}
			out = append(out, v)
		}
		return out, len(out) > 0
	}
	v, ok := k.one(ctx)
	if !ok {
		return nil, false
	}
	return append(buf[:0], v), true
}

// certValue is the i-th value of a certificate name or alternative-name
// attribute.
func (k *keyRef) certValue(c *x509.Certificate, i int) (string, bool) {
	if c == nil || i >= maxCertValues {
		return "", false
	}
	var v string
	found := false
	switch k.kind {
	case kCertSubject, kCertIssuer:
		names := c.Subject.Names
		if k.kind == kCertIssuer {
			names = c.Issuer.Names
		}
		v, found = nthName(names, k.oid, i)
	case kCertSAN:
		switch k.san {
		case "dnsname":
			if i < len(c.DNSNames) {
				v, found = c.DNSNames[i], true
			}
		case "rfc822name":
			if i < len(c.EmailAddresses) {
				v, found = c.EmailAddresses[i], true
			}
		case "uniformresourceidentifier":
			if i < len(c.URIs) {
				v, found = c.URIs[i].String(), true
			}
		case "ipaddress":
			if i < len(c.IPAddresses) {
				v, found = c.IPAddresses[i].String(), true
			}
		}
	}
	if !found || len(v) > maxCertValueLen || strings.ContainsAny(v, "*?") {
		return "", false
	}
	return v, true
}

func nthName(names []pkix.AttributeTypeAndValue, oid asn1.ObjectIdentifier, i int) (string, bool) {
	for _, n := range names {
		if !n.Type.Equal(oid) {
			continue
		}
		if i > 0 {
			i--
			continue
		}
		s, ok := n.Value.(string)
		return s, ok
	}
	return "", false
}

// availableKeys lists the certificate variables that hold a value
// (iot:Certificate.AvailableKeys).
func availableKeys(c *x509.Certificate) ([]string, bool) {
	if c == nil {
		return nil, false
	}
	out := []string{"iot:CertificateId"}
	if c.SerialNumber != nil {
		out = append(out, "iot:Certificate.SerialNumber")
	}
	for _, side := range []struct {
		label string
		names []pkix.AttributeTypeAndValue
	}{{"Subject", c.Subject.Names}, {"Issuer", c.Issuer.Names}} {
		for _, f := range nameFieldOrder {
			if _, ok := nthName(side.names, nameOIDs[strings.ToLower(f)], 0); ok {
				out = append(out, "iot:Certificate."+side.label+"."+f)
			}
		}
	}
	if len(c.DNSNames) > 0 {
		out = append(out, "iot:Certificate.Subject.AlternativeName.DNSName")
	}
	if len(c.EmailAddresses) > 0 {
		out = append(out, "iot:Certificate.Subject.AlternativeName.RFC822Name")
	}
	if len(c.URIs) > 0 {
		out = append(out, "iot:Certificate.Subject.AlternativeName.UniformResourceIdentifier")
	}
	if len(c.IPAddresses) > 0 {
		out = append(out, "iot:Certificate.Subject.AlternativeName.IPAddress")
	}
	return out, true
}

var nameFieldOrder = []string{"DistinguishedNameQualifier", "Country", "Organization", "OrganizationalUnit",
	"State", "CommonName", "SerialNumber", "Title", "Surname", "GivenName", "Initials", "Pseudonym", "GenerationQualifier"}
