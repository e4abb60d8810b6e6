package awscloud

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/otactl/otactl/bootstrap"
)

// Role reads a role and its tags (GetRole returns them).
func (b *Bootstrapper) Role(ctx context.Context, name string) (bootstrap.Role, error) {
	out, err := b.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	if err != nil {
		return bootstrap.Role{}, bwrap(err)
	}
	r := bootstrap.Role{Arn: aws.ToString(out.Role.Arn), Tags: map[string]string{}}
	for _, t := range out.Role.Tags {
		r.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return r, nil
}

// CreateRole creates the role with its trust policy and tags in one call.
func (b *Bootstrapper) CreateRole(ctx context.Context, name, trust string, tags map[string]string) (string, error) {
	var ts []iamtypes.Tag
	for k, v := range tags {
		ts = append(ts, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := b.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: &trust, Tags: ts,
		Description: aws.String("OTA update service role made by otactl bootstrap")})
	if err != nil {
		return "", bwrap(err)
	}
	return aws.ToString(out.Role.Arn), nil
}

func (b *Bootstrapper) AttachRolePolicy(ctx context.Context, role, policyArn string) error {
	_, err := b.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: &role, PolicyArn: &policyArn})
	return bwrap(err)
}

func (b *Bootstrapper) PutRolePolicy(ctx context.Context, role, name, doc string) error {
	_, err := b.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &role, PolicyName: &name, PolicyDocument: &doc})
	return bwrap(err)
}

// DeleteRole detaches the managed policies and deletes the inline ones
// (IAM refuses DeleteRole with DeleteConflict before), then the role.
func (b *Bootstrapper) DeleteRole(ctx context.Context, name string) error {
	ap := iam.NewListAttachedRolePoliciesPaginator(b.iam, &iam.ListAttachedRolePoliciesInput{RoleName: &name})
	for ap.HasMorePages() {
		out, err := ap.NextPage(ctx)
		if err != nil {
			return bwrap(err)
		}
		for _, p := range out.AttachedPolicies {
			if _, err := b.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: &name, PolicyArn: p.PolicyArn}); err != nil {
				return bwrap(err)
			}
		}
	}
	ip := iam.NewListRolePoliciesPaginator(b.iam, &iam.ListRolePoliciesInput{RoleName: &name})
	for ip.HasMorePages() {
		out, err := ip.NextPage(ctx)
		if err != nil {
			return bwrap(err)
		}
		for _, p := range out.PolicyNames {
			if _, err := b.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: &name, PolicyName: aws.String(p)}); err != nil {
				return bwrap(err)
			}
		}
	}
	_, err := b.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: &name})
	return bwrap(err)
}
