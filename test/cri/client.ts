// A CRI client of nvct's own: gRPC over a container runtime's unix socket, as kubelet talks to
// containerd or CRI-O, with the messages of api.proto (the runtime.v1 CRI, trimmed) beside this
// file. Test-only: @grpc/grpc-js and @grpc/proto-loader are dev dependencies, never in dist/nvct.
import * as grpc from "@grpc/grpc-js";
import * as loader from "@grpc/proto-loader";
import { join } from "node:path";

const LOAD: loader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

function load(file: string): grpc.GrpcObject {
  return grpc.loadPackageDefinition(loader.loadSync(join(import.meta.dir, file), LOAD));
}

type Msg = Record<string, any>;
type Unary = (req: Msg, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Msg) => void) => void;

/** One service's methods as promises (each call with a deadline, as kubelet gives one). */
function promised(client: grpc.Client, timeoutMs: number): (method: string, req?: Msg) => Promise<Msg> {
  return (method, req = {}) =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, Unary>)[method];
      if (typeof fn !== "function") return reject(new Error(`no CRI method ${method}`));
      fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(new Error(`${method}: ${err.details || err.message}`));
        else resolve(res);
      });
    });
}

export class CriClient {
  private runtimeClient: grpc.Client;
  private imageClient: grpc.Client;
  private alphaClient: grpc.Client;
  /** runtime.v1 RuntimeService */
  readonly runtime: (method: string, req?: Msg) => Promise<Msg>;
  /** runtime.v1 ImageService */
  readonly image: (method: string, req?: Msg) => Promise<Msg>;
  /** runtime.v1alpha2 RuntimeService (Version only) */
  readonly v1alpha2: (method: string, req?: Msg) => Promise<Msg>;

  constructor(socket: string, timeoutMs = 30_000) {
    const v1 = (load("api.proto").runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
    const alpha = (load("v1alpha2.proto").runtime as grpc.GrpcObject).v1alpha2 as grpc.GrpcObject;
    const target = `unix://${socket}`;
    const creds = grpc.credentials.createInsecure();
    const ctor = (pkg: grpc.GrpcObject, name: string) => pkg[name] as grpc.ServiceClientConstructor;
    this.runtimeClient = new (ctor(v1, "RuntimeService"))(target, creds);
    this.imageClient = new (ctor(v1, "ImageService"))(target, creds);
    this.alphaClient = new (ctor(alpha, "RuntimeService"))(target, creds);
    this.runtime = promised(this.runtimeClient, timeoutMs);
    this.image = promised(this.imageClient, timeoutMs);
    this.v1alpha2 = promised(this.alphaClient, timeoutMs);
  }

  close(): void {
    this.runtimeClient.close();
    this.imageClient.close();
    this.alphaClient.close();
  }
}

/** The lines a container wrote, from its CRI log file (`<time> <stream> <F|P> <text>` a line). */
export function criLogLines(text: string): { stream: string; line: string }[] {
  const out: { stream: string; line: string }[] = [];
  let partial = "";
  for (const raw of text.split("\n")) {
    const m = /^\S+ (stdout|stderr) ([FP]) ?(.*)$/.exec(raw);
    if (!m) continue;
    partial += m[3];
    if (m[2] === "F") {
      out.push({ stream: m[1], line: partial });
      partial = "";
    }
  }
  return out;
}
