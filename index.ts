// Wiring only: read and validate the stack's config, then build the stack its role names.
import { readStackConfig } from "./components/config/readStackConfig";
import { evalStack } from "./components/evalStack";
import { trainStack } from "./components/trainStack";

export = (async () => {
    const { config, secrets } = readStackConfig();
    switch (config.role) {
        case "train":
            return trainStack(config, secrets);
        case "eval":
            return evalStack(config, secrets);
    }
})();
