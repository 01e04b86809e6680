/**
 * The Google APIs the program needs, enabled on the project. Never disabled on destroy: other workloads in
 * the project may use them, and disabling compute.googleapis.com would delete every VM in the project.
 */
import * as pulumi from "@pulumi/pulumi";
import * as projects from "@pulumi/gcp/projects";

export interface ProjectServicesArgs {
    readonly project: string;
    /** Service names such as `tpu.googleapis.com`; plain strings, because they decide which resources exist. */
    readonly services: readonly string[];
}

export class ProjectServices extends pulumi.ComponentResource {
    /** One resource per service, for other resources' `dependsOn`. */
    public readonly services: projects.Service[];

    constructor(name: string, args: ProjectServicesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("tpu-sft:gcp:ProjectServices", name, {}, opts);
        this.services = args.services.map(
            (service) =>
                new projects.Service(
                    `${name}-${service.split(".")[0]}`,
                    {
                        project: args.project,
                        service,
                        disableOnDestroy: false,
                        disableDependentServices: false,
                    },
                    // Kept on `pulumi destroy` as well: the stack enabled it, but does not own it.
                    { parent: this, retainOnDelete: true },
                ),
        );
        this.registerOutputs({ services: this.services.map((s) => s.service) });
    }
}
