// Instrumentation scope of the SDK's own spans. Keep in step with package.json.
export const SDK_NAME = '@ariadne/sdk';
export const SDK_VERSION = '0.1.0';
