// Package policy is AWS IoT Core's authorization model for otactl local:
// IoT policy documents (parse and validate as AWS does), policy variables,
// resource matching and evaluation. It answers one question, "may this
// connection do this action on this resource?", and holds no MQTT, HTTP or
// store: the broker (local/mqtt) and the control plane's TestAuthorization
// (local/iot) both ask it.
//
// Evaluation follows AWS: each statement allows, denies or has no opinion;
// an explicit Deny wins; without an Allow the answer is an implicit deny.
//
// Files: parse.go validates a document (errors wrap ErrMalformed);
// actions.go lists the actions a policy may name; match.go holds the
// wildcard templates Parse compiles for Evaluate; variables.go resolves
// policy variables and condition keys from a Context; conditions.go the
// IAM condition operators; evaluate.go the statement-by-statement decision.
//
// Two choices the AWS docs leave open, made here and documented where they
// are implemented: a Resource entry or Condition value whose policy
// variable cannot be resolved never matches (AWS leaves the "${...}" text in
// place, which in practice does not match either), and the variable is
// reported in Decision.Missing; thing variables resolve only when the thing
// is attached to the connection's principal (Thing.IsAttached).
package policy

import (
	"crypto/x509"
	"time"
)

// The IoT data-plane actions the broker asks about.
const (
	ActionConnect       = "iot:Connect"       // resource client/<clientId>
	ActionPublish       = "iot:Publish"       // resource topic/<topic>
	ActionRetainPublish = "iot:RetainPublish" // resource topic/<topic>
	ActionSubscribe     = "iot:Subscribe"     // resource topicfilter/<filter>
	ActionReceive       = "iot:Receive"       // resource topic/<topic>
)

// Document is a parsed, validated IoT policy document.
type Document struct {
	Version    string // "2012-10-17", "2008-10-17" or "" (absent: 2008-10-17)
	Statements []Statement

	compiled *compiled // set by Parse; Evaluate compiles a hand-built Document itself
}

// Statement is one statement of a document. Action and Resource (or their
// Not forms) are kept as written; matching happens in Evaluate.
type Statement struct {
	Sid         string
	Effect      string // "Allow" or "Deny"
	Action      []string
	NotAction   []string
	Resource    []string
	NotResource []string
	Condition   map[string]map[string][]string // operator → key → values
}

// Policy is a named document as it applies to a connection.
type Policy struct {
	Name     string
	Document *Document
}

// Thing is the connection's thing: the thing named like the client id when
// it is attached to the connection's certificate.
type Thing struct {
	Name       string
	TypeName   string
	Attributes map[string]string
	IsAttached bool
}

// Context is what policy variables and condition keys resolve from.
type Context struct {
	ClientID    string
	Thing       *Thing            // nil: no thing named like the client id
	Certificate *x509.Certificate // nil: no client certificate (plain listener)
	// ConnectAttributes are the CONNECT's attributes for the
	// iot:ConnectAttributes condition key: "PersistentConnect", "LastWill".
	ConnectAttributes []string
	SourceIP          string
	SecureTransport   bool

	// LastWillTopic is the Will's topic as a full ARN
	// (arn:aws:iot:<region>:<account>:topic/<topic>) for the
	// iot:LastWillTopic condition key; "" when the CONNECT has no Will.
	LastWillTopic string
	// CertificateID is the certificate's id (hex SHA-256 of its DER) for
	// ${iot:CertificateId}; computed from Certificate when empty.
	CertificateID string
	// Now is the time for aws:CurrentTime and aws:EpochTime; zero: absent.
	Now time.Time
}

// Request is one question: may the connection do Action on Resource
// (a full ARN such as arn:aws:iot:us-east-1:123456789012:topic/a/b)?
type Request struct {
	Action   string
	Resource string
	Context  Context
}

// Effect is the outcome of an evaluation.
type Effect string

// Outcomes, named as TestAuthorization's authDecision.
const (
	Allowed      Effect = "ALLOWED"
	ExplicitDeny Effect = "EXPLICIT_DENY"
	ImplicitDeny Effect = "IMPLICIT_DENY"
)

// Match names a statement that decided.
type Match struct {
	Policy    string
	Statement int // index in the document's Statement list
	Sid       string
}

// Decision is Evaluate's answer: the outcome and the statements behind it
// (the denying ones for ExplicitDeny, the allowing ones for Allowed).
type Decision struct {
	Effect Effect
	By     []Match
	// Missing lists policy variables or condition keys the context could not
	// resolve (TestAuthorization's missingContextValues).
	Missing []string
}

// Allowed reports whether the request is allowed.
func (d Decision) Allowed() bool { return d.Effect == Allowed }
