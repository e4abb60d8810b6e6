package shadow_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/otactl/otactl/internal/testtool"
)

// TestRetainedMessages: messages retained through iot-data Publish are
// listed (in pages, topic order) and read back by GetRetainedMessage over
// the signed wire, by boto3 and by the AWS CLI; an empty retained publish
// deletes one; bad input is refused naming the field.
func TestRetainedMessages(t *testing.T) {
	f := start(t)
	f.startMQTT()
	before := time.Now().Add(-time.Second).UnixMilli()
	f.ok(f.data("POST", "/topics/factory/line-1?retain=true&qos=1", "hello"), nil)
	f.ok(f.data("POST", "/topics/factory/line-2?retain=true", `{"temp":21}`), nil)
	f.ok(f.data("POST", "/topics/factory/line-3?retain=true", "gone soon"), nil)
	f.ok(f.data("POST", "/topics/factory/line-3?retain=true", ""), nil) // deletes it
	f.ok(f.data("POST", "/topics/factory/not-retained", "x"), nil)

	var got struct {
		Topic            string
		Payload          []byte
		QoS              int
		LastModifiedTime int64
	}
	f.ok(f.data("GET", "/retainedMessage/factory%2Fline-1", ""), &got)
	if got.Topic != "factory/line-1" || string(got.Payload) != "hello" || got.QoS != 1 || got.LastModifiedTime < before || got.LastModifiedTime > time.Now().UnixMilli() {
		t.Fatalf("GetRetainedMessage: %+v", got)
	}
	type page struct {
		RetainedTopics []struct {
			Topic       string
			PayloadSize int
			QoS         int
		}
		NextToken string
	}
	var p1, p2 page
	f.ok(f.data("GET", "/retainedMessage?maxResults=1", ""), &p1)
	if len(p1.RetainedTopics) != 1 || p1.RetainedTopics[0].Topic != "factory/line-1" || p1.RetainedTopics[0].PayloadSize != 5 || p1.NextToken == "" {
		t.Fatalf("first page: %+v", p1)
	}
	f.ok(f.data("GET", "/retainedMessage?maxResults=1&nextToken="+p1.NextToken, ""), &p2)
	if len(p2.RetainedTopics) != 1 || p2.RetainedTopics[0].Topic != "factory/line-2" || p2.RetainedTopics[0].PayloadSize != 11 || p2.NextToken != "" {
		t.Fatalf("second page: %+v", p2)
	}
	for _, tc := range []struct{ path, code string }{
		{"/retainedMessage/factory%2Fline-3", "ResourceNotFoundException"},
		{"/retainedMessage/factory%2Fnot-retained", "ResourceNotFoundException"},
		{"/retainedMessage?maxResults=0", "InvalidRequestException"},
		{"/retainedMessage?maxResults=201", "InvalidRequestException"},
		{"/retainedMessage?nextToken=%25%25", "InvalidRequestException"},
	} {
		if r := f.data("GET", tc.path, ""); r.header.Get("X-Amzn-ErrorType") != tc.code {
			t.Errorf("%s: %d %s, want %s", tc.path, r.status, r.body, tc.code)
		}
	}

	creds, err := f.env.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	python := testtool.Boto3(t)
	cmd := exec.Command(python, "-c", `
import json, sys, boto3
data = boto3.client("iot-data", endpoint_url=sys.argv[1], region_name="us-east-1",
    aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
m = data.get_retained_message(topic="factory/line-2")
topics = [t["topic"] for p in data.get_paginator("list_retained_messages").paginate(PaginationConfig={"PageSize": 1}) for t in p["retainedTopics"]]
try:
    data.get_retained_message(topic="factory/line-3")
    raise SystemExit("deleted message still there")
except data.exceptions.ResourceNotFoundException:
    pass
print(json.dumps({"payload": m["payload"].decode(), "qos": m["qos"], "topics": topics}))
`, f.env.URL, creds.AccessKeyID, creds.SecretAccessKey)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.CombinedOutput()
	if want := `{"payload": "{\"temp\":21}", "qos": 0, "topics": ["factory/line-1", "factory/line-2"]}`; err != nil || strings.TrimSpace(string(out)) != want {
		t.Fatalf("boto3: %v\n%s\nwant %s", err, out, want)
	}

	aws := testtool.Require(t, "aws", "apt-get install awscli")
	cmd = exec.Command(aws, "iot-data", "list-retained-messages", "--output", "json")
	cmd.Env = cliEnv(f.env.URL)
	out, err = cmd.CombinedOutput()
	var listed struct{ RetainedTopics []struct{ Topic string } }
	if err != nil || json.Unmarshal(out, &listed) != nil || len(listed.RetainedTopics) != 2 || listed.RetainedTopics[1].Topic != "factory/line-2" {
		t.Fatalf("aws iot-data list-retained-messages: %v\n%s", err, out)
	}
}
