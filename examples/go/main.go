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
		// The wait is a resource of its own: the run's create returns once DataGOL answered,
		// and this waits for its request id (Poll Status only; a killed `up` is redone).
		finished, err := datagol.NewExtractionRunCompletion(ctx, "open-contracts-finished",
			&datagol.ExtractionRunCompletionArgs{
				Run:            run.CompletionTarget,
				TimeoutSeconds: pulumi.Float64(3600),
			})
		if err != nil {
			return err
		}
		ctx.Export("requestId", run.RequestId)
		ctx.Export("status", finished.Status)
		return nil
	})
}
