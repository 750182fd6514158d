// DataGOL extraction runs from a Go program, through the SDK generated from the plugin's
// schema. Built by tests/e2e/test_plugin_sdks.py against github.com/pulumi/pulumi/sdk/v3.
package main

import (
	"github.com/datagol/pulumi-datagol/sdk/go/datagol"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		workspaceID := config.Require(ctx, "workspaceId")
		run, err := datagol.NewExtractionRun(ctx, "open-contracts", &datagol.ExtractionRunArgs{
			WorkspaceId:  pulumi.String(workspaceID),
			ExtractionId: pulumi.String("contract-terms"),
			// ElementType_ (not ElementType): Go's generator renames it, ElementType is a method.
			ElementType_: pulumi.String("FILE"),
			ElementId:    pulumi.String("file-7781"),
			Mode:         pulumi.String("filter"),
			WhereClause:  pulumi.String("status = 'open'"),
		})
		if err != nil {
			return err
		}
		ctx.Export("requestId", run.RequestId)
		return nil
	})
}
