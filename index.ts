// Wiring only: read and validate the stack's config, then build the stack its role names.
import { readStackConfig } from "./components/config/readStackConfig";
import { trainStack } from "./components/trainStack";

const { config, secrets } = readStackConfig();

export = (() => {
    switch (config.role) {
        case "train":
            return trainStack(config, secrets);
        case "eval":
            throw new Error("the eval stack is not implemented yet (issue 3)");
    }
})();
