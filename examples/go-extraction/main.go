// A DataGOL extraction configuration and runs of it from a Go program, through the SDK
// generated from the plugin's schema. Built by tests/e2e/test_plugin_sdks.py.
package main

import (
	"github.com/datagol/pulumi-datagol/sdk/go/datagol"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		workspaceID := config.Require(ctx, "workspaceId")
		// The configuration itself: created by POST, changed by one PUT, deleted on destroy.
		invoices, err := datagol.NewExtraction(ctx, "invoices", &datagol.ExtractionArgs{
			WorkspaceId:    pulumi.String(workspaceID),
			Title:          pulumi.String("Invoices"),
			ExtractionMode: pulumi.String("STANDARD"),
			// ElementType_ (not ElementType): Go's generator renames it, ElementType is a method.
			ElementType_: pulumi.String("FILE"),
			ElementId:    pulumi.String("file-42"),
			OutputConfiguration: pulumi.Map{
				"createNewWorkbook": pulumi.Bool(true),
				"title":             pulumi.String("Invoice lines"),
			},
			PrimaryKeyColumnId: pulumi.StringArray{pulumi.String("number")},
			ColumnConfiguration: pulumi.MapArray{
				pulumi.Map{"name": pulumi.String("number"), "uiDataType": pulumi.String("SINGLE_LINE_TEXT")},
			},
			StoreExtractedData: pulumi.Bool(true),
			ScheduleType:       pulumi.String("MANUAL"),
		})
		if err != nil {
			return err
		}
		// A run of it; its modification date in triggers runs it again whenever it changes.
		_, err = datagol.NewExtractionRun(ctx, "invoices-run", &datagol.ExtractionRunArgs{
			WorkspaceId:  pulumi.String(workspaceID),
			ExtractionId: invoices.ExtractionId,
			ElementType_: pulumi.String("FILE"),
			ElementId:    pulumi.String("file-42"),
			Triggers:     pulumi.Map{"configuration": invoices.ModiDate},
		})
		if err != nil {
			return err
		}
		// A group of runs of it.
		_, err = datagol.NewExtractionRunGroup(ctx, "invoices-runs", &datagol.ExtractionRunGroupArgs{
			Runs: datagol.RunSpecMap{
				"newOnly": datagol.RunSpecArgs{
					WorkspaceId:  pulumi.String(workspaceID),
					ExtractionId: invoices.ExtractionId,
					ElementType_: pulumi.String("FILE"),
					ElementId:    pulumi.String("file-42"),
					Mode:         pulumi.String("new"),
				},
			},
		})
		if err != nil {
			return err
		}
		ctx.Export("extractionId", invoices.ExtractionId)
		return nil
	})
}
