package s3

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const xmlns = "http://s3.amazonaws.com/doc/2006-03-01/"

// s3Time is S3's timestamp format in XML bodies.
func s3Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func requestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type errorBody struct {
	XMLName          xml.Name `xml:"Error"`
	Code             string
	Message          string
	BucketName       string `xml:",omitempty"`
	Key              string `xml:",omitempty"`
	UploadID         string `xml:"UploadId,omitempty"`
	ActualObjectSize *int64 `xml:",omitempty"`
	RangeRequested   string `xml:",omitempty"`
	Resource         string `xml:",omitempty"`
	RequestID        string `xml:"RequestId"`
}

// WriteError writes err in S3's XML error shape. A non-*Error is an
// InternalError. The otactl local server uses it for S3 auth failures, which
// answer an expectation like any other request (expectContinue).
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	if r != nil {
		expectContinue(w, r)
	}
	writeError(w, r, err)
}

func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = errorf(http.StatusInternalServerError, "InternalError", "%v", err)
	}
	resource := e.Resource
	if resource == "" && r != nil {
		resource = r.URL.Path
	}
	for k, v := range e.Header {
		w.Header().Set(k, v)
	}
	id := w.Header().Get("x-amz-request-id")
	if id == "" {
		id = requestID()
		w.Header().Set("x-amz-request-id", id)
	}
	if r != nil && r.Method == http.MethodHead {
		// HEAD responses carry no body; the SDK reads the status alone.
		w.WriteHeader(e.Status)
		return
	}
	writeXML(w, e.Status, errorBody{Code: e.Code, Message: e.Message, BucketName: e.BucketName, Key: e.Key,
		UploadID: e.UploadID, ActualObjectSize: e.ActualObjectSize, RangeRequested: e.RangeRequested,
		Resource: resource, RequestID: id})
}

// AuthError builds the S3 error for a failed authentication (the server
// calls it with InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied).
func AuthError(code, message string) error {
	return errorf(http.StatusForbidden, code, "%s", message)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	io.WriteString(w, xml.Header)
	xml.NewEncoder(w).Encode(v)
}

// decodeXML reads a small XML request body into v; anything unreadable is
// MalformedXML.
func decodeXML(r *http.Request, v any) error {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = xml.Unmarshal(raw, v)
	}
	if err != nil {
		return errMalformedXML()
	}
	return nil
}

func errMalformedXML() *Error {
	return errorf(http.StatusBadRequest, "MalformedXML",
		"The XML you provided was not well-formed or did not validate against our published schema")
}

func notImplemented(what string) *Error {
	return errorf(http.StatusNotImplemented, "NotImplemented",
		"A header or query you provided implies functionality that is not implemented (%s).", what)
}

type owner struct {
	ID          string
	DisplayName string
}

type listBucketsResult struct {
	XMLName xml.Name `xml:"ListAllMyBucketsResult"`
	Xmlns   string   `xml:"xmlns,attr"`
	Owner   owner
	Buckets []bucketXML `xml:"Buckets>Bucket"`
}

type bucketXML struct {
	Name         string
	CreationDate string
}

type versioningConfiguration struct {
	XMLName   xml.Name `xml:"VersioningConfiguration"`
	Xmlns     string   `xml:"xmlns,attr,omitempty"`
	Status    string   `xml:"Status,omitempty"`
	MfaDelete string   `xml:"MfaDelete,omitempty"`
}

type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint string
}

type locationConstraint struct {
	XMLName xml.Name `xml:"LocationConstraint"`
	Xmlns   string   `xml:"xmlns,attr"`
	Value   string   `xml:",chardata"`
}

type copyObjectResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	ETag         string
	LastModified string
}

type contentXML struct {
	Key          string
	LastModified string
	ETag         string
	Size         int64
	StorageClass string
}

type commonPrefix struct {
	Prefix string
}

type listV2Result struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	Xmlns                 string   `xml:"xmlns,attr"`
	Name                  string
	Prefix                string
	Delimiter             string `xml:",omitempty"`
	MaxKeys               int
	KeyCount              int
	IsTruncated           bool
	ContinuationToken     string `xml:",omitempty"`
	NextContinuationToken string `xml:",omitempty"`
	StartAfter            string `xml:",omitempty"`
	EncodingType          string `xml:",omitempty"`
	Contents              []contentXML
	CommonPrefixes        []commonPrefix
}

type listV1Result struct {
	XMLName        xml.Name `xml:"ListBucketResult"`
	Xmlns          string   `xml:"xmlns,attr"`
	Name           string
	Prefix         string
	Marker         string
	NextMarker     string `xml:",omitempty"`
	Delimiter      string `xml:",omitempty"`
	MaxKeys        int
	IsTruncated    bool
	EncodingType   string `xml:",omitempty"`
	Contents       []contentXML
	CommonPrefixes []commonPrefix
}

// versionXML is a <Version> or a <DeleteMarker> (XMLName says which), so
// that both kinds interleave in S3's order.
type versionXML struct {
	XMLName      xml.Name
	Key          string
	VersionID    string `xml:"VersionId"`
	IsLatest     bool
	LastModified string
	ETag         string `xml:",omitempty"`
	Size         *int64 `xml:",omitempty"`
	StorageClass string `xml:",omitempty"`
	Owner        owner
}

type listVersionsResult struct {
	XMLName             xml.Name `xml:"ListVersionsResult"`
	Xmlns               string   `xml:"xmlns,attr"`
	Name                string
	Prefix              string
	KeyMarker           string
	VersionIDMarker     string `xml:"VersionIdMarker"`
	NextKeyMarker       string `xml:",omitempty"`
	NextVersionIDMarker string `xml:"NextVersionIdMarker,omitempty"`
	Delimiter           string `xml:",omitempty"`
	MaxKeys             int
	IsTruncated         bool
	EncodingType        string `xml:",omitempty"`
	Entries             []versionXML
	CommonPrefixes      []commonPrefix
}

type deleteRequest struct {
	XMLName xml.Name `xml:"Delete"`
	Quiet   bool
	Objects []struct {
		Key       string
		VersionID string `xml:"VersionId"`
	} `xml:"Object"`
}

type deletedXML struct {
	Key                   string
	VersionID             string `xml:"VersionId,omitempty"`
	DeleteMarker          bool   `xml:",omitempty"`
	DeleteMarkerVersionID string `xml:"DeleteMarkerVersionId,omitempty"`
}

type deleteErrorXML struct {
	Key       string
	VersionID string `xml:"VersionId,omitempty"`
	Code      string
	Message   string
}

type deleteResult struct {
	XMLName xml.Name         `xml:"DeleteResult"`
	Xmlns   string           `xml:"xmlns,attr"`
	Deleted []deletedXML     `xml:"Deleted"`
	Errors  []deleteErrorXML `xml:"Error"`
}

// tagging is the body of Put/Get*Tagging.
type tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	TagSet  []tagXML `xml:"TagSet>Tag"`
}

type tagXML struct {
	Key   string
	Value string
}

func (t tagging) tags() []Tag {
	out := make([]Tag, 0, len(t.TagSet))
	for _, x := range t.TagSet {
		out = append(out, Tag{Key: x.Key, Value: x.Value})
	}
	return out
}

func taggingOf(tags []Tag) tagging {
	t := tagging{Xmlns: xmlns, TagSet: []tagXML{}}
	for _, x := range tags {
		t.TagSet = append(t.TagSet, tagXML{Key: x.Key, Value: x.Value})
	}
	return t
}

type completeResult struct {
	XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Location string
	Bucket   string
	Key      string
	ETag     string
}

type copyPartResult struct {
	XMLName      xml.Name `xml:"CopyPartResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	ETag         string
	LastModified string
}

type partXML struct {
	PartNumber   int
	LastModified string
	ETag         string
	Size         int64
}

type listPartsResult struct {
	XMLName              xml.Name `xml:"ListPartsResult"`
	Xmlns                string   `xml:"xmlns,attr"`
	Bucket               string
	Key                  string
	UploadID             string `xml:"UploadId"`
	PartNumberMarker     int
	NextPartNumberMarker int
	MaxParts             int
	IsTruncated          bool
	Parts                []partXML `xml:"Part"`
	Initiator            owner
	Owner                owner
	StorageClass         string
}

type uploadXML struct {
	Key          string
	UploadID     string `xml:"UploadId"`
	Initiator    owner
	Owner        owner
	StorageClass string
	Initiated    string
}

type listUploadsResult struct {
	XMLName            xml.Name `xml:"ListMultipartUploadsResult"`
	Xmlns              string   `xml:"xmlns,attr"`
	Bucket             string
	KeyMarker          string
	UploadIDMarker     string `xml:"UploadIdMarker"`
	NextKeyMarker      string `xml:",omitempty"`
	NextUploadIDMarker string `xml:"NextUploadIdMarker,omitempty"`
	Prefix             string
	Delimiter          string `xml:",omitempty"`
	MaxUploads         int
	IsTruncated        bool
	EncodingType       string         `xml:",omitempty"`
	Uploads            []uploadXML    `xml:"Upload"`
	CommonPrefixes     []commonPrefix `xml:"CommonPrefixes"`
}

// serverSideEncryptionConfiguration is the body of Put/GetBucketEncryption:
// Rule is flattened (one or more Rule elements, S3 takes exactly one).
type serverSideEncryptionConfiguration struct {
	XMLName xml.Name         `xml:"ServerSideEncryptionConfiguration"`
	Xmlns   string           `xml:"xmlns,attr,omitempty"`
	Rules   []encryptionRule `xml:"Rule"`
}

type encryptionRule struct {
	Default          *encryptionByDefault `xml:"ApplyServerSideEncryptionByDefault"`
	Blocked          *blockedTypes        `xml:"BlockedEncryptionTypes"`
	BucketKeyEnabled xsBool
}

type encryptionByDefault struct {
	SSEAlgorithm   string
	KMSMasterKeyID string `xml:",omitempty"`
}

type blockedTypes struct {
	EncryptionType []string
}

// publicAccessBlockConfiguration is the body of Put/GetPublicAccessBlock;
// a member left out of a Put is false.
type publicAccessBlockConfiguration struct {
	XMLName               xml.Name `xml:"PublicAccessBlockConfiguration"`
	Xmlns                 string   `xml:"xmlns,attr,omitempty"`
	BlockPublicAcls       xsBool
	IgnorePublicAcls      xsBool
	BlockPublicPolicy     xsBool
	RestrictPublicBuckets xsBool
}

// xsBool is an XML Schema boolean ("true", "false", "1", "0"); Set tells
// whether the element was there. encoding/xml's own bool also takes "T"
// and "TRUE", which S3's schema refuses.
type xsBool struct {
	Value, Set bool
}

func (b *xsBool) UnmarshalText(t []byte) error {
	switch strings.TrimSpace(string(t)) {
	case "true", "1":
		b.Value = true
	case "false", "0":
		b.Value = false
	default:
		return fmt.Errorf("%q is not a boolean", t)
	}
	b.Set = true
	return nil
}

func (b xsBool) MarshalText() ([]byte, error) { return []byte(strconv.FormatBool(b.Value)), nil }
