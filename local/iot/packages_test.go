package iot_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

func TestPackageCatalog(t *testing.T) {
	f := start(t)
	c := f.client
	p := must(c.CreatePackage(ctx, &sdkiot.CreatePackageInput{PackageName: aws.String("fw"), Description: aws.String("firmware"),
		Tags: map[string]string{"team": "fw"}}))
	if *p.PackageArn != env.ARN("iot", "package/fw") || *p.Description != "firmware" {
		t.Fatalf("CreatePackage: %+v", p)
	}
	_, err := c.CreatePackage(ctx, &sdkiot.CreatePackageInput{PackageName: aws.String("fw")})
	wantCode(t, err, "ConflictException")
	_, err = c.CreatePackage(ctx, &sdkiot.CreatePackageInput{PackageName: aws.String("bad name")})
	wantCode(t, err, "ValidationException")

	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0-rc1"} {
		out := must(c.CreatePackageVersion(ctx, &sdkiot.CreatePackageVersionInput{PackageName: aws.String("fw"), VersionName: aws.String(v),
			Attributes: map[string]string{"v": v},
			Artifact:   &types.PackageVersionArtifact{S3Location: &types.S3Location{Bucket: aws.String("fw"), Key: aws.String("image.bin"), Version: aws.String("v1")}}}))
		if *out.PackageVersionArn != env.ARN("iot", "package/fw/version/"+v) || out.Status != types.PackageVersionStatusDraft {
			t.Fatalf("CreatePackageVersion: %+v", out)
		}
	}
	_, err = c.CreatePackageVersion(ctx, &sdkiot.CreatePackageVersionInput{PackageName: aws.String("fw"), VersionName: aws.String("1.0.0")})
	wantCode(t, err, "ConflictException")
	_, err = c.CreatePackageVersion(ctx, &sdkiot.CreatePackageVersionInput{PackageName: aws.String("nope"), VersionName: aws.String("1.0.0")})
	wantCode(t, err, "ResourceNotFoundException")

	must(c.UpdatePackageVersion(ctx, &sdkiot.UpdatePackageVersionInput{PackageName: aws.String("fw"), VersionName: aws.String("1.1.0"), Action: types.PackageVersionActionPublish}))
	v := must(c.GetPackageVersion(ctx, &sdkiot.GetPackageVersionInput{PackageName: aws.String("fw"), VersionName: aws.String("1.1.0")}))
	if v.Status != types.PackageVersionStatusPublished || v.Attributes["v"] != "1.1.0" || *v.Artifact.S3Location.Key != "image.bin" || v.CreationDate == nil {
		t.Fatalf("GetPackageVersion: %+v", v)
	}
	must(c.UpdatePackage(ctx, &sdkiot.UpdatePackageInput{PackageName: aws.String("fw"), DefaultVersionName: aws.String("1.1.0")}))
	g := must(c.GetPackage(ctx, &sdkiot.GetPackageInput{PackageName: aws.String("fw")}))
	if *g.DefaultVersionName != "1.1.0" || *g.Description != "firmware" || g.CreationDate == nil {
		t.Fatalf("GetPackage: %+v", g)
	}
	var names []string
	pg := sdkiot.NewListPackageVersionsPaginator(c, &sdkiot.ListPackageVersionsInput{PackageName: aws.String("fw"), MaxResults: aws.Int32(2)})
	for pg.HasMorePages() {
		for _, s := range must(pg.NextPage(ctx)).PackageVersionSummaries {
			names = append(names, *s.VersionName)
		}
	}
	if len(names) != 3 {
		t.Fatalf("ListPackageVersions: %v", names)
	}
	pub := must(c.ListPackageVersions(ctx, &sdkiot.ListPackageVersionsInput{PackageName: aws.String("fw"), Status: types.PackageVersionStatusPublished}))
	if len(pub.PackageVersionSummaries) != 1 {
		t.Fatalf("published: %+v", pub.PackageVersionSummaries)
	}
	if l := must(c.ListPackages(ctx, &sdkiot.ListPackagesInput{})); len(l.PackageSummaries) != 1 || *l.PackageSummaries[0].DefaultVersionName != "1.1.0" {
		t.Fatalf("ListPackages: %+v", l.PackageSummaries)
	}
	tags := must(c.ListTagsForResource(ctx, &sdkiot.ListTagsForResourceInput{ResourceArn: p.PackageArn})).Tags
	if len(tags) != 1 || *tags[0].Key != "team" {
		t.Fatalf("package tags: %+v", tags)
	}

	// A job may name a version that exists as its destination.
	f.group(t, "g", 1)
	must(c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("pkg-job"), Targets: []string{groupArn("g")}, Document: aws.String("{}"),
		DestinationPackageVersions: []string{env.ARN("iot", "package/fw/version/1.1.0")}}))

	must(c.DeletePackageVersion(ctx, &sdkiot.DeletePackageVersionInput{PackageName: aws.String("fw"), VersionName: aws.String("2.0.0-rc1")}))
	_, err = c.GetPackageVersion(ctx, &sdkiot.GetPackageVersionInput{PackageName: aws.String("fw"), VersionName: aws.String("2.0.0-rc1")})
	wantCode(t, err, "ResourceNotFoundException")
	must(c.DeletePackage(ctx, &sdkiot.DeletePackageInput{PackageName: aws.String("fw")}))
	_, err = c.GetPackage(ctx, &sdkiot.GetPackageInput{PackageName: aws.String("fw")})
	wantCode(t, err, "ResourceNotFoundException")
}

func TestTags(t *testing.T) {
	f := start(t)
	c := f.client
	f.group(t, "g", 1)
	job := f.job(t, "j", groupArn("g"))
	for _, arn := range []string{*job.JobArn, thingArn("g-0000"), groupArn("g")} {
		must(c.TagResource(ctx, &sdkiot.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{
			{Key: aws.String("b"), Value: aws.String("2")}, {Key: aws.String("a"), Value: aws.String("1")}}}))
		must(c.UntagResource(ctx, &sdkiot.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"b"}}))
		tags := must(c.ListTagsForResource(ctx, &sdkiot.ListTagsForResourceInput{ResourceArn: aws.String(arn)})).Tags
		if len(tags) != 1 || *tags[0].Key != "a" || *tags[0].Value != "1" {
			t.Fatalf("%s tags: %+v", arn, tags)
		}
	}
	_, err := c.TagResource(ctx, &sdkiot.TagResourceInput{ResourceArn: aws.String(env.ARN("iot", "job/none")), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = c.ListTagsForResource(ctx, &sdkiot.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:s3:::bucket")})
	wantCode(t, err, "InvalidRequestException")
	_, err = c.TagResource(ctx, &sdkiot.TagResourceInput{ResourceArn: job.JobArn, Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("1")}}})
	wantCode(t, err, "InvalidRequestException")
	// Tags go with their resource.
	must(c.DeleteJob(ctx, &sdkiot.DeleteJobInput{JobId: aws.String("j"), Force: true}))
	f.job(t, "j", groupArn("g"))
	if tags := must(c.ListTagsForResource(ctx, &sdkiot.ListTagsForResourceInput{ResourceArn: job.JobArn})).Tags; len(tags) != 0 {
		t.Fatalf("a deleted job's tags came back: %+v", tags)
	}
}
