package iot

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

// routes registers every operation at its path in the IoT API.
func (s *Service) routes() {
	m := map[string]op{
		"GET /endpoint": s.describeEndpoint,

		"POST /things/{thingName}":   s.createThing,
		"GET /things/{thingName}":    s.describeThing,
		"DELETE /things/{thingName}": s.deleteThing,
		"GET /things":                s.listThings,
		"PATCH /things/{thingName}":  s.updateThing,

		// Thing groups of a thing and thing principals v2 (things_http.go),
		// thing group updates (groups_http.go), thing types (thingtypes_http.go).
		"GET /things/{thingName}/thing-groups":        s.listThingGroupsForThing,
		"GET /things/{thingName}/principals-v2":       s.listThingPrincipalsV2,
		"PATCH /thing-groups/{thingGroupName}":        s.updateThingGroup,
		"POST /thing-types/{thingTypeName}":           s.createThingType,
		"GET /thing-types/{thingTypeName}":            s.describeThingType,
		"PATCH /thing-types/{thingTypeName}":          s.updateThingType,
		"DELETE /thing-types/{thingTypeName}":         s.deleteThingType,
		"POST /thing-types/{thingTypeName}/deprecate": s.deprecateThingType,
		"GET /thing-types":                            s.listThingTypes,

		"POST /thing-groups/{thingGroupName}":         s.createThingGroup,
		"GET /thing-groups/{thingGroupName}":          s.describeThingGroup,
		"DELETE /thing-groups/{thingGroupName}":       s.deleteThingGroup,
		"GET /thing-groups":                           s.listThingGroups,
		"PUT /thing-groups/addThingToThingGroup":      s.addThingToThingGroup,
		"PUT /thing-groups/removeThingFromThingGroup": s.removeThingFromThingGroup,
		"GET /thing-groups/{thingGroupName}/things":   s.listThingsInThingGroup,
		"POST /streams/{streamId}":                    s.createStream,
		"GET /streams/{streamId}":                     s.describeStream,
		"PUT /streams/{streamId}":                     s.updateStream,
		"DELETE /streams/{streamId}":                  s.deleteStream,
		"GET /streams":                                s.listStreams,
		"PUT /jobs/{jobId}":                           s.createJob,
		"GET /jobs/{jobId}":                           s.describeJob,
		"DELETE /jobs/{jobId}":                        s.deleteJob,
		"GET /jobs":                                   s.listJobs,
		"GET /jobs/{jobId}/job-document":              s.getJobDocument,
		"PATCH /jobs/{jobId}":                         s.updateJob,
		"POST /jobs/{jobId}/targets":                  s.associateTargetsWithJob,
		// Provisioning templates (provtemplates_http.go).
		"POST /provisioning-templates":                                       s.createProvisioningTemplate,
		"GET /provisioning-templates":                                        s.listProvisioningTemplates,
		"GET /provisioning-templates/{templateName}":                         s.describeProvisioningTemplate,
		"PATCH /provisioning-templates/{templateName}":                       s.updateProvisioningTemplate,
		"DELETE /provisioning-templates/{templateName}":                      s.deleteProvisioningTemplate,
		"POST /provisioning-templates/{templateName}/versions":               s.createProvisioningTemplateVersion,
		"GET /provisioning-templates/{templateName}/versions":                s.listProvisioningTemplateVersions,
		"GET /provisioning-templates/{templateName}/versions/{versionId}":    s.describeProvisioningTemplateVersion,
		"DELETE /provisioning-templates/{templateName}/versions/{versionId}": s.deleteProvisioningTemplateVersion,

		"PUT /job-templates/{jobTemplateId}":                                        s.createJobTemplate,
		"GET /job-templates/{jobTemplateId}":                                        s.describeJobTemplate,
		"DELETE /job-templates/{jobTemplateId}":                                     s.deleteJobTemplate,
		"GET /job-templates":                                                        s.listJobTemplates,
		"PUT /jobs/{jobId}/cancel":                                                  s.cancelJob,
		"GET /jobs/{jobId}/things":                                                  s.listJobExecutionsForJob,
		"GET /things/{thingName}/jobs":                                              s.listJobExecutionsForThing,
		"PUT /things/{thingName}/jobs/{jobId}/cancel":                               s.cancelJobExecution,
		"DELETE /things/{thingName}/jobs/{jobId}/executionNumber/{executionNumber}": s.deleteJobExecution,
		"GET /things/{thingName}/jobs/{jobId}":                                      s.describeJobExecution,
		"PUT /packages/{packageName}":                                               s.createPackage,
		"GET /packages/{packageName}":                                               s.getPackage,
		"PATCH /packages/{packageName}":                                             s.updatePackage,
		"DELETE /packages/{packageName}":                                            s.deletePackage,
		"GET /packages":                                                             s.listPackages,
		"PUT /packages/{packageName}/versions/{version}":                            s.createPackageVersion,
		"GET /packages/{packageName}/versions/{version}":                            s.getPackageVersion,
		"PATCH /packages/{packageName}/versions/{version}":                          s.updatePackageVersion,
		"DELETE /packages/{packageName}/versions/{version}":                         s.deletePackageVersion,
		"GET /packages/{packageName}/versions":                                      s.listPackageVersions,
		"POST /tags":                                                                s.tagResource,
		"GET /tags":                                                                 s.listTagsForResource,
		"POST /untag":                                                               s.untagResource,

		// Device certificates, thing principals (certificates_http.go) and CA
		// certificates (cacerts_http.go).
		"POST /keys-and-certificate":                s.createKeysAndCertificate,
		"POST /certificates":                        s.createCertificateFromCsr,
		"GET /certificates":                         s.listCertificates,
		"GET /certificates/{certificateId}":         s.describeCertificate,
		"PUT /certificates/{certificateId}":         s.updateCertificate,
		"DELETE /certificates/{certificateId}":      s.deleteCertificate,
		"POST /certificate/register":                s.registerCertificate,
		"POST /certificate/register-no-ca":          s.registerCertificateWithoutCA,
		"GET /certificates-by-ca/{caCertificateId}": s.listCertificatesByCA,
		"PUT /things/{thingName}/principals":        s.attachThingPrincipal,
		"DELETE /things/{thingName}/principals":     s.detachThingPrincipal,
		"GET /things/{thingName}/principals":        s.listThingPrincipals,
		"GET /principals/things":                    s.listPrincipalThings,
		"GET /registrationcode":                     s.getRegistrationCode,
		"POST /cacertificate":                       s.registerCACertificate,
		"GET /cacertificates":                       s.listCACertificates,
		"GET /cacertificate/{caCertificateId}":      s.describeCACertificate,
		"PUT /cacertificate/{caCertificateId}":      s.updateCACertificate,
		"DELETE /cacertificate/{caCertificateId}":   s.deleteCACertificate,

		// IoT policies (policies_http.go).
		"POST /policies/{policyName}":                             s.createPolicy,
		"GET /policies/{policyName}":                              s.getPolicy,
		"DELETE /policies/{policyName}":                           s.deletePolicy,
		"GET /policies":                                           s.listPolicies,
		"POST /policies/{policyName}/version":                     s.createPolicyVersion,
		"GET /policies/{policyName}/version":                      s.listPolicyVersions,
		"GET /policies/{policyName}/version/{policyVersionId}":    s.getPolicyVersion,
		"PATCH /policies/{policyName}/version/{policyVersionId}":  s.setDefaultPolicyVersion,
		"DELETE /policies/{policyName}/version/{policyVersionId}": s.deletePolicyVersion,
		"PUT /target-policies/{policyName}":                       s.attachPolicy,
		"POST /target-policies/{policyName}":                      s.detachPolicy,
		"POST /attached-policies/{target}":                        s.listAttachedPolicies,
		"POST /policy-targets/{policyName}":                       s.listTargetsForPolicy,
		"POST /effective-policies":                                s.getEffectivePolicies,
		"POST /test-authorization":                                s.testAuthorization,
		"PUT /principal-policies/{policyName}":                    s.attachPrincipalPolicy,
		"DELETE /principal-policies/{policyName}":                 s.detachPrincipalPolicy,
		"GET /principal-policies":                                 s.listPrincipalPolicies,
		"GET /policy-principals":                                  s.listPolicyPrincipals,
	}
	for pattern, h := range m {
		s.mux.Handle(pattern, serve(h))
	}
}

// ServeHTTP routes a request to its operation. Anything that matches no
// operation gets AWS's error shape rather than the mux's plain-text 404/405.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Handler finds the pattern without setting path values; the mux's own
	// ServeHTTP then dispatches with them.
	if _, pattern := s.mux.Handler(r); pattern == "" {
		writeErr(w, wire.Errorf(http.StatusNotFound, "UnknownOperationException", "no IoT operation for %s %s", r.Method, r.URL.Path))
		return
	}
	defer func() {
		// A bug must still answer in AWS's shape; the server stays up.
		if v := recover(); v != nil {
			writeErr(w, wire.Internal(fmt.Errorf("panic: %v", v)))
		}
	}()
	s.mux.ServeHTTP(w, r)
}

func writeErr(w http.ResponseWriter, err error) { wire.WriteError(w, err) }

// op is an operation: it returns the response body (nil: a 200 without a
// body) or an error, which goes out in AWS's shape.
type op func(r *http.Request) (any, error)

// serve adapts an op to the mux.
func serve(f op) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		out, err := f(r)
		switch {
		case err != nil:
			writeErr(w, err)
		case out == nil:
			w.WriteHeader(http.StatusOK)
		default:
			writeJSON(w, out)
		}
	}
}

// The IoT API's error codes beyond wire's common ones.
func invalid(format string, args ...any) *wire.Error { return wire.InvalidRequest(format, args...) }

func notFound(format string, args ...any) *wire.Error { return wire.NotFound(format, args...) }

func alreadyExists(id, arn, format string, args ...any) *wire.Error {
	e := wire.Errorf(http.StatusConflict, "ResourceAlreadyExistsException", format, args...)
	e.Fields = map[string]string{"resourceId": id, "resourceArn": arn}
	return e
}

func stateTransition(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusConflict, "InvalidStateTransitionException", format, args...)
}

func versionConflict(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusConflict, "VersionConflictException", format, args...)
}

func limitExceeded(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusGone, "LimitExceededException", format, args...)
}

// validation is the Software Package Catalog's name for a bad request.
func validation(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "ValidationException", format, args...)
}

// page is a pagination request: the key to resume at and the page size.
type page struct {
	after string // resume strictly after this key ("" = from the start)
	max   int
}

const (
	defaultPageSize = 100
	maxPageSize     = 250
)

// parsePage reads maxResults and nextToken.
func parsePage(r *http.Request) (page, error) {
	q := r.URL.Query()
	p := page{max: defaultPageSize}
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return p, invalid("maxResults must be 1-%d, got %q", maxPageSize, v)
		}
		p.max = n
	}
	if t := q.Get("nextToken"); t != "" {
		raw, err := base64.RawURLEncoding.DecodeString(t)
		if err != nil || !strings.HasPrefix(string(raw), "k:") {
			return p, invalid("invalid nextToken")
		}
		p.after = string(raw[2:])
	}
	return p, nil
}

func nextToken(key string) string { return base64.RawURLEncoding.EncodeToString([]byte("k:" + key)) }

// listPage walks table records under prefix after p.after, calling keep for
// each; keep returns whether the record belongs in the page. It returns the
// token of the next page, or "" at the end.
func listPage(tx *store.Tx, table, prefix string, p page, keep func(key string, raw []byte) (bool, error)) (string, error) {
	n, token, last := 0, "", ""
	err := tx.List(table, prefix, func(k string, raw []byte) error {
		if p.after != "" && k <= p.after {
			return nil
		}
		if n == p.max {
			token = nextToken(last)
			return store.ErrStop
		}
		ok, err := keep(k, raw)
		if err != nil {
			return err
		}
		if ok {
			n++
			last = k
		}
		return nil
	})
	return token, err
}

// boolQuery reads a boolean query parameter.
func boolQuery(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, invalid("%s must be true or false, got %q", name, v)
	}
	return b, nil
}

// at is a timestamp as the IoT REST-JSON wire carries it: seconds since the
// epoch with a fraction; nil (omitted) for the zero time.
func at(t time.Time) *float64 {
	if t.IsZero() {
		return nil
	}
	v := float64(t.UnixMilli()) / 1000
	return &v
}

// decode reads a JSON request body, rejecting what AWS rejects.
func decode(r *http.Request, v any) error { return wire.DecodeJSON(r, v) }

func writeJSON(w http.ResponseWriter, v any) { wire.WriteJSON(w, http.StatusOK, v) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func sortTimes(ts []time.Time) { sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) }) }

func conflict(format string, args ...any) *wire.Error { return wire.Conflict(format, args...) }

// conflictID is a ConflictException naming the resource that already
// exists (CreateJobTemplate with a template id in use).
func conflictID(id, format string, args ...any) *wire.Error {
	e := wire.Conflict(format, args...)
	e.Fields = map[string]string{"resourceId": id}
	return e
}

// deleteConflict refuses to delete something still in use (a policy that is
// attached or has non-default versions, a certificate with attachments).
func deleteConflict(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusConflict, "DeleteConflictException", format, args...)
}

// malformedPolicy refuses a policy document that does not parse or validate.
func malformedPolicy(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "MalformedPolicyException", format, args...)
}

// versionsLimitExceeded refuses a sixth version of a policy.
func versionsLimitExceeded(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusConflict, "VersionsLimitExceededException", format, args...)
}

// certificateState refuses a certificate operation its status forbids
// (deleting an ACTIVE certificate, changing a REVOKED one).
func certificateState(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusNotAcceptable, "CertificateStateException", format, args...)
}

// certificateValidation refuses a certificate that does not parse, is
// expired, or is not signed by the CA it must be signed by.
func certificateValidation(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "CertificateValidationException", format, args...)
}

// registrationCodeValidation refuses a CA verification certificate whose
// Common Name is not the account's registration code.
func registrationCodeValidation(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "RegistrationCodeValidationException", format, args...)
}

// serviceUnavailable answers an operation whose dependency is not wired
// (CreateKeysAndCertificate before otactl local's CA is loaded).
func serviceUnavailable(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusServiceUnavailable, "ServiceUnavailableException", format, args...)
}

// resourceConflicts refuses a provisioning template whose resource exists
// with OverrideSettings FAIL (the developer guide's
// ResourceConflictsException).
func resourceConflicts(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusConflict, "ResourceConflictsException", format, args...)
}
