package awscloud

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iot"
)

// emptySHA256 is the payload hash of a request without a body.
var emptySHA256 = func() string { h := sha256.Sum256(nil); return hex.EncodeToString(h[:]) }()

// ThingPackages reads a thing's reserved $package named shadow, where the
// Software Package Catalog records the package versions the thing runs
// (package → version). It is one signed GET on the IoT data plane; the SDK's
// iotdataplane client is not used because this module proxy does not serve it.
func (c *Cloud) ThingPackages(ctx context.Context, thing string) (map[string]string, error) {
	base, err := c.dataEndpoint(ctx)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		base+"/things/"+url.PathEscape(thing)+"/shadow?name="+url.QueryEscape("$package"), nil)
	if err != nil {
		return nil, err
	}
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, err
	}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, emptySHA256, "iotdata", c.cfg.Region, time.Now()); err != nil {
		return nil, err
	}
	client := c.cfg.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return map[string]string{}, nil // the thing reports no package yet
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GetThingShadow %s $package: HTTP %d: %s", thing, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	var sh struct {
		State struct {
			Reported map[string]struct {
				Version string `json:"version"`
			} `json:"reported"`
		} `json:"state"`
	}
	if err := json.Unmarshal(raw, &sh); err != nil {
		return nil, fmt.Errorf("GetThingShadow %s $package: %w", thing, err)
	}
	out := map[string]string{}
	for pkg, v := range sh.State.Reported {
		out[pkg] = v.Version
	}
	return out, nil
}

// dataEndpoint is the IoT data plane's base URL: the custom endpoint (otactl
// local serves every API on one port), or DescribeEndpoint's iot:Data-ATS.
func (c *Cloud) dataEndpoint(ctx context.Context) (string, error) {
	if c.cfg.BaseEndpoint != nil {
		return strings.TrimRight(*c.cfg.BaseEndpoint, "/"), nil
	}
	out, err := c.iot.DescribeEndpoint(ctx, &iot.DescribeEndpointInput{EndpointType: aws.String("iot:Data-ATS")})
	if err != nil {
		return "", wrap(err)
	}
	return "https://" + aws.ToString(out.EndpointAddress), nil
}
