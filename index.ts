// Wiring only: read and validate the stack's config, then build the stack its role names.
import { readStackConfig } from "./components/config/readStackConfig";
import { evalStack } from "./components/evalStack";
import { trainStack } from "./components/trainStack";

// Read while the program loads: a config error stops it before anything is registered.
const { config, secrets } = readStackConfig();

export = (async () => {
    switch (config.role) {
        case "train":
            return trainStack(config, secrets);
        case "eval":
            return evalStack(config, secrets);
    }
})();
