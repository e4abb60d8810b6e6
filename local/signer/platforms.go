package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
)

// platform is a signing platform as ListSigningPlatforms returns it, plus
// what signing with it means here.
type platform struct {
	PlatformID           string        `json:"platformId"`
	DisplayName          string        `json:"displayName"`
	Partner              string        `json:"partner"`
	Target               string        `json:"target"`
	Category             string        `json:"category"`
	SigningConfiguration signingConfig `json:"signingConfiguration"`
	SigningImageFormat   imageFormat   `json:"signingImageFormat"`
	MaxSizeInMB          int           `json:"maxSizeInMB"`
	RevocationSupported  bool          `json:"revocationSupported"`

	hash      crypto.Hash
	algorithm string // signatureAlgorithm in the signed object
	rsa       bool   // RSA key (else ECDSA P-256)
	// signs is whether otactl local can sign for the platform. Profiles
	// can be made for every platform AWS lists (scripts set them up), but
	// Lambda's and Notation's signatures are formats only AWS makes, so a
	// signing job for them is refused (startJob) rather than faked.
	signs bool
	// validity is the default signatureValidityPeriod (135 months, AWS's
	// default and maximum) of the platforms it applies to; nil for the rest.
	validity *validity
}

type signingConfig struct {
	EncryptionAlgorithmOptions options `json:"encryptionAlgorithmOptions"`
	HashAlgorithmOptions       options `json:"hashAlgorithmOptions"`
}

type options struct {
	AllowedValues []string `json:"allowedValues"`
	DefaultValue  string   `json:"defaultValue"`
}

type imageFormat struct {
	SupportedFormats []string `json:"supportedFormats"`
	DefaultFormat    string   `json:"defaultFormat"`
}

// The platforms AWS lists (aws signer list-signing-platforms), with the
// values it returns for them, sorted by id. otactl local signs for the
// three that sign firmware for AWS IoT OTA.
var platforms = []*platform{
	{
		PlatformID: "AWSIoTDeviceManagement-SHA256-ECDSA", DisplayName: "AWS IoT Device Management SHA256-ECDSA",
		Partner: "AWSIoTDeviceManagement", Target: "SHA256-ECDSA", Category: "AWS",
		SigningConfiguration: signingConfig{options{[]string{"ECDSA"}, "ECDSA"}, options{[]string{"SHA256"}, "SHA256"}},
		SigningImageFormat:   imageFormat{[]string{"JSONDetached"}, "JSONDetached"},
		MaxSizeInMB:          2048,
		hash:                 crypto.SHA256, algorithm: "SHA256withECDSA", signs: true,
	},
	{
		PlatformID: "AWSLambda-SHA384-ECDSA", DisplayName: "AWS Lambda",
		Partner: "AWSLambda", Target: "SHA384-ECDSA", Category: "AWS",
		SigningConfiguration: signingConfig{options{[]string{"ECDSA"}, "ECDSA"}, options{[]string{"SHA384"}, "SHA384"}},
		SigningImageFormat:   imageFormat{[]string{"JSONDetached"}, "JSONDetached"},
		MaxSizeInMB:          250, RevocationSupported: true,
		hash: crypto.SHA384, validity: &validity{Type: "MONTHS", Value: 135},
	},
	{
		PlatformID: "AmazonFreeRTOS-Default", DisplayName: "Amazon FreeRTOS SHA256-ECDSA",
		Partner: "AmazonFreeRTOS", Target: "SHA256-ECDSA", Category: "AWS",
		SigningConfiguration: signingConfig{options{[]string{"ECDSA"}, "ECDSA"}, options{[]string{"SHA256"}, "SHA256"}},
		SigningImageFormat:   imageFormat{[]string{"JSONEmbedded"}, "JSONEmbedded"},
		MaxSizeInMB:          16,
		hash:                 crypto.SHA256, algorithm: "SHA256withECDSA", signs: true,
	},
	{
		PlatformID: "AmazonFreeRTOS-TI-CC3220SF", DisplayName: "Amazon FreeRTOS SHA1-RSA CC3220SF-Format",
		Partner: "AmazonFreeRTOS", Target: "SHA1-RSA-TISHA1", Category: "AWS",
		SigningConfiguration: signingConfig{options{[]string{"RSA"}, "RSA"}, options{[]string{"SHA1"}, "SHA1"}},
		SigningImageFormat:   imageFormat{[]string{"JSONEmbedded"}, "JSONEmbedded"},
		MaxSizeInMB:          16,
		hash:                 crypto.SHA1, algorithm: "SHA1withRSA", rsa: true, signs: true,
	},
	{
		PlatformID: "Notation-OCI-SHA384-ECDSA", DisplayName: "Notation for container registries",
		Partner: "AWSSigner", Target: "OCI-SHA384-ECDSA", Category: "AWS",
		SigningConfiguration: signingConfig{options{[]string{"ECDSA"}, "ECDSA"}, options{[]string{"SHA384"}, "SHA384"}},
		SigningImageFormat:   imageFormat{[]string{"JSONDetached"}, "JSONDetached"},
		MaxSizeInMB:          4, RevocationSupported: true,
		hash: crypto.SHA384, validity: &validity{Type: "MONTHS", Value: 135},
	},
}

// platformIDs lists the ids of the platforms that satisfy keep, for messages.
func platformIDs(keep func(*platform) bool) string {
	var ids []string
	for _, p := range platforms {
		if keep(p) {
			ids = append(ids, p.PlatformID)
		}
	}
	return strings.Join(ids, ", ")
}

// errCannotSign refuses a signing job for a platform otactl local lists
// but does not sign for.
func errCannotSign(p *platform) error {
	return validation("otactl local cannot sign for platform %s (profiles for it can be made, signing jobs cannot); it signs for %s.",
		p.PlatformID, platformIDs(func(p *platform) bool { return p.signs }))
}

func findPlatform(id string) *platform {
	for _, p := range platforms {
		if p.PlatformID == id {
			return p
		}
	}
	return nil
}

// keyFits reports whether a signing key can sign for the platform.
func (p *platform) keyFits(pub crypto.PublicKey) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return p.rsa
	case *ecdsa.PublicKey:
		return !p.rsa && k.Curve == elliptic.P256()
	}
	return false
}

func (p *platform) keyKind() string {
	if p.rsa {
		return "an RSA"
	}
	return "an ECDSA P-256"
}

func (s *Service) listPlatforms(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := maxResults(r, 100)
	if err != nil {
		reply(w, nil, err)
		return
	}
	var match []*platform
	for _, p := range platforms {
		if c := q.Get("category"); c != "" && c != p.Category && c != "AWSIoT" {
			continue
		}
		if v := q.Get("partner"); v != "" && v != p.Partner {
			continue
		}
		if v := q.Get("target"); v != "" && v != p.Target {
			continue
		}
		match = append(match, p)
	}
	items, next, err := paginate(match, func(p *platform) string { return p.PlatformID }, q.Get("nextToken"), limit)
	if err != nil {
		reply(w, nil, err)
		return
	}
	out := map[string]any{"platforms": items}
	if next != "" {
		out["nextToken"] = next
	}
	reply(w, out, nil)
}

func (s *Service) getPlatform(w http.ResponseWriter, r *http.Request) {
	p := findPlatform(r.PathValue("platformId"))
	if p == nil {
		reply(w, nil, notFound("Platform %s does not exist.", r.PathValue("platformId")))
		return
	}
	reply(w, p, nil)
}

// paginate returns the page of items after the key the token names, and
// the token for the next page ("" at the end). items must be sorted by key;
// the token is the last key returned, so items that appear or leave between
// pages do not shift what follows.
func paginate[T any](items []T, key func(T) string, token string, limit int) ([]T, string, error) {
	start := 0
	if token != "" {
		last, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(last) == 0 {
			return nil, "", validation("invalid nextToken")
		}
		start, _ = slices.BinarySearchFunc(items, string(last), func(it T, k string) int {
			if key(it) <= k {
				return -1
			}
			return 1
		})
	}
	page := items[start:]
	if len(page) > limit {
		page = page[:limit]
		return page, base64.RawURLEncoding.EncodeToString([]byte(key(page[len(page)-1]))), nil
	}
	if page == nil {
		page = []T{}
	}
	return page, "", nil
}
