package iot_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
)

// A job document reaches clients with its own characters: Go's JSON encoder
// would write & < > as \u0026 \u003c \u003e, and device parsers that do not
// unescape would then request a mangled presigned URL. Bytes are compared,
// not parsed JSON, because parsing would hide the difference.
func TestGetJobDocumentKeepsCharacters(t *testing.T) {
	f := start(t)
	f.group(t, "fleet", 1)
	doc := `{"url":"https://h/k?X-Amz-Date=1&X-Amz-Expires=60","cmp":"a<b>c"}`
	must(f.client.CreateJob(ctx, &sdkiot.CreateJobInput{
		JobId: aws.String("bytes"), Targets: []string{groupArn("fleet")}, Document: aws.String(doc),
	}))
	req, _ := http.NewRequest(http.MethodGet, f.url+"/jobs/bytes/job-document", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	for _, want := range []string{`&X-Amz-Expires`, `a<b>c`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("GetJobDocument body lacks %q (escaped?): %s", want, raw)
		}
	}
	if strings.Contains(string(raw), `\u00`) {
		t.Errorf("GetJobDocument body has \\u00 escapes: %s", raw)
	}
}
