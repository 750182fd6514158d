// DataGOL extraction runs from a TypeScript program, through the SDK generated from the
// plugin's schema (`@datagol/pulumi`). Type-checked by tests/e2e/test_plugin_sdks.py.
import * as pulumi from "@pulumi/pulumi";
import * as datagol from "@datagol/pulumi";

const config = new pulumi.Config();
const workspaceId = config.require("workspaceId");

// Only rows matching a filter; a changed whereClause re-triggers this run, nothing else.
const contracts = new datagol.ExtractionRun("open-contracts", {
    workspaceId,
    extractionId: "contract-terms",
    elementType: "FILE",
    elementId: "file-7781",
    mode: "filter",
    whereClause: "status = 'open'",
});

// The wait is a resource of its own: the run's create returns once DataGOL answered (so the
// state holds its request id), and this waits for it, reading Poll Status only. A `pulumi up`
// killed meanwhile is redone by the next one, on any runner, without sending the run again.
const contractsFinished = new datagol.ExtractionRunCompletion("open-contracts-finished", {
    run: contracts.completionTarget,
    timeoutSeconds: 3600,
});

// Several runs at once; bump `release` to run them again on purpose.
const seed = new datagol.ExtractionRunGroup("seed", {
    maxConcurrency: 4,
    runs: {
        invoices: { workspaceId, extractionId: "invoice-fields", elementType: "FOLDER", elementId: "finance/invoices" },
        orders: { workspaceId, extractionId: "order-lines", elementType: "COLUMN", elementId: "col-orders", mode: "new", triggers: { release: "1" } },
    },
});

// Every run of the group, awaited; depend on a completion for what needs the runs finished.
const seedFinished = new datagol.ExtractionRunCompletion("seed-finished", { runs: seed.results });

export const requestId: pulumi.Output<string | undefined> = contracts.requestId;
export const status: pulumi.Output<string> = contractsFinished.status;
export const seedStatus: pulumi.Output<string> = seedFinished.status;
export const seeded: pulumi.Output<string[] | undefined> = seed.triggeredKeys;
