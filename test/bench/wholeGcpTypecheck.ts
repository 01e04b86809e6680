// The program as it would be if it imported @pulumi/gcp whole: under type-checking ts-node, this pulls
// every gcp module's typings into the compile, which is what `pulumi up` would pay at each start.
import * as gcp from "@pulumi/gcp";
import "./evalTrainStack";

export const touched = typeof gcp.tpu.V2Vm;
