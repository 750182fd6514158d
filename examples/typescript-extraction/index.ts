// A DataGOL extraction configuration and runs of it, from a TypeScript program, through the
// SDK generated from the plugin's schema. Type-checked by tests/e2e/test_plugin_sdks.py.
import * as pulumi from "@pulumi/pulumi";
import * as datagol from "@datagol/pulumi";

const config = new pulumi.Config();
const workspaceId = config.require("workspaceId");

// The configuration itself: created by POST, changed by one PUT, deleted on destroy.
const invoices = new datagol.Extraction("invoices", {
    workspaceId,
    title: "Invoices",
    extractionMode: "STANDARD",
    elementType: "FILE",
    elementId: "file-42",
    outputConfiguration: { createNewWorkbook: true, title: "Invoice lines" },
    primaryKeyColumnId: ["number"],
    columnConfiguration: [
        { name: "number", description: "Invoice number", uiDataType: "SINGLE_LINE_TEXT" },
        { name: "amount", description: "Total", uiDataType: "NUMBER" },
    ],
    storeExtractedData: true,
    scheduleType: "MANUAL",
});

// A run of it; its modification date in triggers runs it again whenever it changes.
new datagol.ExtractionRun("invoices-run", {
    workspaceId,
    extractionId: invoices.extractionId,
    elementType: "FILE",
    elementId: "file-42",
    triggers: { configuration: invoices.modiDate },
});

// A group of runs of it.
new datagol.ExtractionRunGroup("invoices-runs", {
    runs: {
        newOnly: {
            workspaceId,
            extractionId: invoices.extractionId,
            elementType: "FILE",
            elementId: "file-42",
            mode: "new",
        },
    },
});

// Configurations made in DataGOL's UI, by title.
export const sameTitle = datagol
    .getExtractionsOutput({ workspaceId, elementType: "FILE", elementId: "file-42", title: "Invoices" })
    .apply((found) => found.extractions.map((c) => c.extractionId));
export const extractionId = invoices.extractionId;
