/**
 * TPU quota per zone, from the Cloud Quotas API (`quotaInfos.get` on tpu.googleapis.com). The TPU API's quota ids
 * are per generation and provisioning model; a reserved slice draws on its reservation instead. Quotas report the
 * limit, not the usage, so a limit that covers the slice is necessary, not sufficient.
 */
import { AcceleratorShape } from "../../components/config/accelerators";
import { apiError, GoogleApis, quotaProjectHint } from "./apis";
import { CheckResult, fail, pass, skip, warn } from "./result";

/** Chip quota ids of the TPU API (the ids quota errors name, e.g. TPUV6EPreemptiblePerProjectPerZoneForTPUAPI). */
const QUOTA_IDS: Partial<Record<AcceleratorShape["generation"], { spot: string; "on-demand": string }>> = {
    v6e: { spot: "TPUV6EPreemptiblePerProjectPerZoneForTPUAPI", "on-demand": "TPUV6EPerProjectPerZoneForTPUAPI" },
    v5e: {
        spot: "TPUV5sPreemptibleLitepodPerProjectPerZoneForTPUAPI",
        "on-demand": "TPUV5sLitepodPerProjectPerZoneForTPUAPI",
    },
};

export function quotaIdFor(
    generation: AcceleratorShape["generation"],
    provisioning: "spot" | "on-demand",
): string | undefined {
    return QUOTA_IDS[generation]?.[provisioning];
}

interface DimensionsInfo {
    readonly dimensions?: Record<string, string>;
    readonly details?: { readonly value?: string | number };
    readonly applicableLocations?: readonly string[];
}

/**
 * The limit that applies in `zone`: the entry for that zone, else the default entry (no zone dimension), which
 * applies wherever no specific entry exists. Undefined when neither is present.
 */
export function quotaLimitInZone(dimensionsInfos: readonly DimensionsInfo[], zone: string): number | undefined {
    const specific = dimensionsInfos.find((d) => d.dimensions?.zone === zone);
    const fallback = dimensionsInfos.find((d) => d.dimensions?.zone === undefined);
    const chosen = specific ?? fallback;
    const value = chosen?.details?.value;
    if (value === undefined) return undefined;
    const limit = Number(value);
    return Number.isFinite(limit) ? limit : undefined;
}

export async function checkQuota(
    api: GoogleApis,
    project: string,
    zone: string,
    shape: AcceleratorShape,
    provisioning: "spot" | "on-demand" | "reserved",
    stack: string,
): Promise<CheckResult> {
    const check = `quota ${zone}`;
    if (provisioning === "reserved") {
        return skip(check, "tpu.provisioning is reserved: the slice draws on its reservation, not on quota");
    }
    const quotaId = quotaIdFor(shape.generation, provisioning);
    if (!quotaId) {
        return skip(check, `no quota id known for ${shape.generation}; check it in the console's Quotas page`);
    }
    const response = await api.get(
        "cloudquotas",
        `/v1/projects/${encodeURIComponent(project)}/locations/global/services/tpu.googleapis.com/quotaInfos/${quotaId}`,
    );
    if (response.status !== 200) {
        return warn(
            check,
            `could not read ${quotaId}: ${apiError(response)}`,
            quotaProjectHint(response, project) ??
                `gcloud services enable cloudquotas.googleapis.com --project ${project}`,
        );
    }
    const infos = (response.data as { dimensionsInfos?: DimensionsInfo[] }).dimensionsInfos ?? [];
    const limit = quotaLimitInZone(infos, zone);
    if (limit === undefined) {
        return warn(check, `${quotaId} lists no limit for ${zone}`);
    }
    if (limit === -1 || limit >= shape.chips) {
        return pass(
            check,
            `${quotaId} is ${limit === -1 ? "unlimited" : limit} chips; ${shape.type} needs ${shape.chips}`,
        );
    }
    return fail(
        check,
        `${quotaId} is ${limit} chips in ${zone}; ${shape.type} needs ${shape.chips} (${provisioning})`,
        `gcloud quotas preferences create --service=tpu.googleapis.com --quota-id=${quotaId} --preferred-value=${shape.chips} --dimensions=zone=${zone} --project=${project} --email=<your-email>, or pulumi config set --path tpu.zone <a-zone-with-quota> --stack ${stack}`,
    );
}
