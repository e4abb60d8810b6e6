package iot_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/otactl/otactl/internal/testtool"
	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
)

// boto3RegistryScript drives the registry operations of issue 11 the way a
// Python user does; each assert names what it checks.
const boto3RegistryScript = `
import sys, boto3, botocore
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
          config=botocore.config.Config(retries={"max_attempts": 1}))
iot = boto3.client("iot", **kw)

# Thing types on things.
t = iot.create_thing_type(thingTypeName="bulb", thingTypeProperties={"thingTypeDescription": "light", "searchableAttributes": ["w"]})
assert t["thingTypeArn"].endswith(":thingtype/bulb"), t
d = iot.describe_thing_type(thingTypeName="bulb")
assert d["thingTypeMetadata"]["deprecated"] is False and d["thingTypeProperties"]["searchableAttributes"] == ["w"], d
iot.create_thing(thingName="b1", thingTypeName="bulb", attributePayload={"attributes": {"w": "75", "color": "red"}})
iot.create_thing(thingName="plain")
assert [x["thingName"] for x in iot.list_things(thingTypeName="bulb")["things"]] == ["b1"]
assert [x["thingTypeName"] for x in iot.list_thing_types()["thingTypes"]] == ["bulb"]

# UpdateThing: merge with a deletion, expectedVersion.
iot.update_thing(thingName="b1", attributePayload={"attributes": {"color": "", "w": "60"}, "merge": True}, expectedVersion=1)
th = iot.describe_thing(thingName="b1")
assert th["attributes"] == {"w": "60"} and th["version"] == 2, th
try:
    iot.update_thing(thingName="b1", attributePayload={"attributes": {"w": "1"}}, expectedVersion=1)
    raise SystemExit("stale expectedVersion accepted")
except iot.exceptions.VersionConflictException:
    pass
try:
    iot.update_thing(thingName="b1", thingTypeName="bulb", removeThingType=True)
    raise SystemExit("thingTypeName with removeThingType accepted")
except iot.exceptions.InvalidRequestException:
    pass
# A lone surrogate (bytes Python could not decode) is refused, not stored.
try:
    iot.update_thing(thingName="b1", attributePayload={"attributes": {"w": "6\udcff0"}, "merge": True})
    raise SystemExit("invalid UTF-8 accepted")
except iot.exceptions.InvalidRequestException as e:
    assert "not valid UTF-8" in str(e), e
assert iot.describe_thing(thingName="b1")["attributes"] == {"w": "60"}

# Deprecation: no new thing; undo.
iot.deprecate_thing_type(thingTypeName="bulb")
try:
    iot.create_thing(thingName="b2", thingTypeName="bulb")
    raise SystemExit("deprecated type given to a new thing")
except iot.exceptions.InvalidRequestException:
    pass
iot.deprecate_thing_type(thingTypeName="bulb", undoDeprecate=True)
iot.create_thing(thingName="b2", thingTypeName="bulb")

# Groups: the hierarchy, recursive=False, metadata.
iot.create_thing_group(thingGroupName="fleet")
iot.create_thing_group(thingGroupName="canary", parentGroupName="fleet")
names = lambda r: [g["groupName"] for g in r["thingGroups"]]
assert names(iot.list_thing_groups()) == ["canary", "fleet"]
assert names(iot.list_thing_groups(recursive=False)) == ["fleet"]
assert names(iot.list_thing_groups(recursive=False, namePrefixFilter="can")) == []
assert names(iot.list_thing_groups(parentGroup="fleet", recursive=False)) == ["canary"]
root = iot.describe_thing_group(thingGroupName="fleet")["thingGroupMetadata"]
assert "rootToParentThingGroups" not in root and "parentGroupName" not in root, root
child = iot.describe_thing_group(thingGroupName="canary")["thingGroupMetadata"]
assert child["parentGroupName"] == "fleet" and [g["groupName"] for g in child["rootToParentThingGroups"]] == ["fleet"], child
v = iot.update_thing_group(thingGroupName="canary", thingGroupProperties={"thingGroupDescription": "first wave",
    "attributePayload": {"attributes": {"wave": "1"}}}, expectedVersion=1)["version"]
assert v == 2, v
iot.add_thing_to_thing_group(thingGroupName="canary", thingName="b1")
assert names(iot.list_thing_groups_for_thing(thingName="b1")) == ["canary"]

# DeleteThing with a certificate attached.
cert = iot.register_certificate_without_ca(certificatePem=sys.argv[4], status="ACTIVE")
iot.attach_thing_principal(thingName="plain", principal=cert["certificateArn"])
p = iot.list_thing_principals_v2(thingName="plain")["thingPrincipalObjects"]
assert p == [{"principal": cert["certificateArn"], "thingPrincipalType": "NON_EXCLUSIVE_THING"}], p
try:
    iot.delete_thing(thingName="plain")
    raise SystemExit("thing with a principal deleted")
except iot.exceptions.InvalidRequestException as e:
    assert "still attached to one or more principals" in str(e), e
iot.detach_thing_principal(thingName="plain", principal=cert["certificateArn"])
iot.delete_thing(thingName="plain")
print("ok")
`

// TestBoto3Registry runs the registry operations through boto3 against the
// whole server with signatures checked.
func TestBoto3Registry(t *testing.T) {
	python := testtool.Boto3(t)
	current = t
	e := localtest.StartWith(t, local.Config{StrictAuth: true})
	creds, err := e.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _ := newTestCA(t, "device CA").issue(t, "dev")
	cmd := exec.Command(python, "-c", boto3RegistryScript, e.URL, creds.AccessKeyID, creds.SecretAccessKey, certPEM)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}
