/**
 * The SSH key pair the steps log in with. Given keys pass through as secrets; otherwise the key is
 * generated once, on the machine running `pulumi up`, by a local command whose output is a secret in
 * state and is never logged. A local command keeps this to the packages the project already has.
 */
import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import { shellQuote } from "./shell/quote";

export interface SshKeyPairArgs {
    /** An existing private key (a Pulumi secret); the program generates one when absent. */
    readonly privateKey?: pulumi.Output<string>;
    /** The OpenSSH public key line matching `privateKey`. */
    readonly publicKey?: string;
}

/** Node's crypto makes an ed25519 key; the public half is framed as an OpenSSH `ssh-ed25519` line. */
export const GENERATE_ED25519_SCRIPT = [
    "const c=require('crypto');",
    "const k=c.generateKeyPairSync('ed25519');",
    "const raw=k.publicKey.export({type:'spki',format:'der'}).subarray(12);",
    "const s=(b)=>{const l=Buffer.alloc(4);l.writeUInt32BE(b.length);return Buffer.concat([l,b]);};",
    "const blob=Buffer.concat([s(Buffer.from('ssh-ed25519')),s(raw)]);",
    "process.stdout.write(JSON.stringify({privateKey:k.privateKey.export({type:'pkcs8',format:'pem'}),publicKey:'ssh-ed25519 '+blob.toString('base64')})+'\\n');",
].join("");

export class SshKeyPair extends pulumi.ComponentResource {
    /** PEM private key, secret. */
    public readonly privateKey: pulumi.Output<string>;
    /** OpenSSH public key line. */
    public readonly publicKey: pulumi.Output<string>;

    constructor(name: string, args: SshKeyPairArgs, opts?: pulumi.ComponentResourceOptions) {
        super("tpu-sft:ssh:SshKeyPair", name, {}, opts);
        if (args.privateKey && args.publicKey) {
            this.privateKey = pulumi.secret(args.privateKey);
            this.publicKey = pulumi.output(args.publicKey);
        } else {
            const generated = new local.Command(
                `${name}-generate`,
                {
                    create: `node -e ${shellQuote(GENERATE_ED25519_SCRIPT)}`,
                    logging: "none",
                    addPreviousOutputInEnv: false,
                },
                { parent: this, additionalSecretOutputs: ["stdout"] },
            );
            const pair = generated.stdout.apply(
                (stdout) => JSON.parse(stdout) as { privateKey: string; publicKey: string },
            );
            this.privateKey = pulumi.secret(pair.apply((p) => p.privateKey));
            // The public half is not secret; unwrap it so it can be shown and put in VM metadata.
            this.publicKey = pulumi.unsecret(pair.apply((p) => p.publicKey));
        }
        this.registerOutputs({ publicKey: this.publicKey });
    }
}
