import * as ort from 'onnxruntime-node';

/**
 * ONNX Runtime, with its telemetry off. The runtime's Linux build carries Microsoft's 1DS telemetry: about
 * ten seconds after the first session it resolved `mobile.events.data.microsoft.com` and tried to send
 * usage events there, from the denoiser, the tests and the benches alike. `ORT_DISABLE_TELEMETRY` is read
 * when the runtime's environment is created, with the first session, so setting it here, before any
 * session exists, is enough. An operator's own value is kept. Every module uses ONNX Runtime through this one.
 */
process.env.ORT_DISABLE_TELEMETRY ??= '1';

export { ort };
