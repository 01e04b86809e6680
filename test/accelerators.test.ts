import * as assert from "assert";
import {
    canonicalAcceleratorType,
    parseAcceleratorType,
    regionOf,
    RUNTIMES_BY_GENERATION,
    TPU_REGIONS,
    ZONE_PATTERN,
} from "../components/config/accelerators";

describe("parseAcceleratorType", () => {
    const cases: [string, string, number, number][] = [
        ["v6e-16", "v6e", 16, 4],
        ["v6e-8", "v6e", 8, 1],
        ["v6e-1", "v6e", 1, 1],
        ["v6e-256", "v6e", 256, 64],
        ["v5litepod-8", "v5e", 8, 1],
        ["v5litepod-16", "v5e", 16, 4],
        ["v5p-8", "v5p", 4, 1],
        ["v5p-16", "v5p", 8, 2],
        ["v4-8", "v4", 4, 1],
        ["v4-32", "v4", 16, 4],
    ];
    for (const [type, generation, chips, hosts] of cases) {
        it(`${type} is ${generation} with ${chips} chips on ${hosts} host(s)`, () => {
            assert.deepStrictEqual(parseAcceleratorType(type), { type, generation, chips, hosts });
        });
    }
    it("rejects unknown types and sizes", () => {
        for (const type of ["v6e-12", "v7-8", "v6e16", "V6E-16", "v5e-8", ""]) {
            assert.strictEqual(parseAcceleratorType(type), undefined, type);
        }
    });
});

describe("canonicalAcceleratorType", () => {
    it("names the type GCP spells for a near miss", () => {
        const cases: [string, string | undefined][] = [
            ["V6E-16", "v6e-16"],
            ["v6e_16", "v6e-16"],
            ["v6e16", "v6e-16"],
            [" v6e-8 ", "v6e-8"],
            ["v5e-8", "v5litepod-8"],
            ["V5LITEPOD_4", "v5litepod-4"],
            ["v5p_016", "v5p-16"],
            ["v6e-16", undefined],
            ["v6e-12", undefined],
            ["v7-8", undefined],
        ];
        for (const [input, canonical] of cases) assert.strictEqual(canonicalAcceleratorType(input), canonical, input);
    });
});

describe("zones, regions and runtimes", () => {
    it("zone syntax, including AI zones", () => {
        for (const zone of ["us-east5-b", "europe-west4-a", "us-central1-ai1a"])
            assert.ok(ZONE_PATTERN.test(zone), zone);
        for (const zone of ["useast5b", "us-east5", "US-EAST5-B", "us-east5-bb"])
            assert.ok(!ZONE_PATTERN.test(zone), zone);
    });

    it("region of a zone, and the regions with TPUs", () => {
        assert.strictEqual(regionOf("us-east5-b"), "us-east5");
        assert.strictEqual(regionOf("us-central1-ai1a"), "us-central1");
        assert.ok(TPU_REGIONS.includes("us-east5") && TPU_REGIONS.includes("europe-west4"));
        assert.ok(!TPU_REGIONS.includes("us-east5-b"));
    });

    it("runtime versions per generation (TPU software versions page, and the SOP's v6e image)", () => {
        assert.deepStrictEqual(RUNTIMES_BY_GENERATION, {
            v6e: ["v6e-ubuntu-2404", "v2-alpha-tpuv6e"],
            v5e: ["v2-alpha-tpuv5-lite", "tpu-ubuntu2204-base"],
            v5p: ["v2-alpha-tpuv5"],
            v4: ["tpu-ubuntu2204-base", "tpu-vm-v4-base"],
        });
    });
});
