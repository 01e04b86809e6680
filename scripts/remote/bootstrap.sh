# bootstrap.sh: make this worker ready to run the workload; safe and fast to re-run.
# Inputs: ENV_MODE (conda|system-python), CONDA_ENV, PYTHON_VERSION, MINICONDA_URL, JAX_VERSION,
# LIBTPU_VERSION, JAX_RELEASES_URL, TORCH_INDEX_URL, MLLM_URL, MLLM_COMMIT, MINI_URL, MINI_COMMIT,
# WANDB_KEY_ON_STDIN (1: the W&B API key arrives on stdin, never in this command's text).
require_env ENV_MODE CONDA_ENV PYTHON_VERSION JAX_VERSION LIBTPU_VERSION MLLM_URL MLLM_COMMIT MINI_URL MINI_COMMIT WANDB_KEY_ON_STDIN
STATE_DIR="$HOME/.tpu-sft"
mkdir -p "$STATE_DIR"

# Every other step runs from a file installed here (STEP_SCRIPTS_DIGEST, STEP_SCRIPT_<NAME> inputs), so their
# commands, and the errors that quote them, stay short.
install_step_scripts() {
    require_env STEP_SCRIPTS_DIGEST
    local dir="$STATE_DIR/steps/$STEP_SCRIPTS_DIGEST" var name
    mkdir -p "$dir"
    for var in ${!STEP_SCRIPT_@}; do
        name="${var#STEP_SCRIPT_}"
        name="${name,,}"
        printf '%s\n' "${!var}" >"$dir/$name.sh.tmp"
        mv -f "$dir/$name.sh.tmp" "$dir/$name.sh"
    done
}
install_step_scripts

write_wandb_key() {
    local key=""
    IFS= read -r key || true
    # W&B rejects keys with whitespace; a key pasted from Windows carries a CR (seed-repo-facts §7).
    key="${key//$'\r'/}"
    key="${key#"${key%%[![:space:]]*}"}"
    key="${key%"${key##*[![:space:]]}"}"
    [[ -n "$key" ]] || die "WANDB_KEY_ON_STDIN=1 but stdin carried no key"
    [[ "$key" =~ ^[A-Za-z0-9_.-]+$ ]] || die "the W&B API key on stdin has characters a W&B key never has (it is not shown here)"
    local tmp="$HOME/.env.tpu-sft.tmp"
    (
        umask 077
        printf 'WANDB_API_KEY=%s\n' "$key" >"$tmp"
    )
    chmod 600 "$tmp"
    mv -f "$tmp" "$HOME/.env"
    log "wrote the W&B key to $HOME/.env (mode 600)"
}

# Clone if missing, fetch only when the commit is not there yet, then a detached checkout of exactly it.
# Never `git clean`: logs/ is not ignored upstream and would be deleted.
checkout_pinned() {
    local url="$1" commit="$2" dir="$3"
    if [[ ! -d "$dir/.git" ]]; then
        log "cloning $url into $dir"
        git clone --quiet --no-checkout "$url" "$dir" >&2
    fi
    git -C "$dir" remote set-url origin "$url"
    if ! git -C "$dir" cat-file -e "${commit}^{commit}" 2>/dev/null; then
        log "fetching $url for $commit"
        git -C "$dir" fetch --quiet --tags origin '+refs/heads/*:refs/remotes/origin/*' >&2 ||
            die "git fetch $url failed"
        if ! git -C "$dir" cat-file -e "${commit}^{commit}" 2>/dev/null; then
            git -C "$dir" fetch --quiet origin "$commit" >&2 2>/dev/null ||
                die "commit $commit is not in $url (check repos.*.commit)"
        fi
    fi
    local full
    full="$(git -C "$dir" rev-parse --verify --quiet "${commit}^{commit}")" || die "commit $commit is not in $url"
    # Always check out: a fresh --no-checkout clone already has HEAD at the branch tip but no files, and a
    # forced checkout also restores tracked files someone edited on the VM. Untracked files (logs, runs) stay.
    git -C "$dir" -c advice.detachedHead=false checkout --quiet --force --detach "$full" >&2
    log "checked out $full in $dir"
    printf '%s' "$full"
}

setup_conda_env() {
    local conda_root="$HOME/miniconda3"
    if [[ ! -x "$conda_root/bin/conda" ]]; then
        log "installing Miniconda from $MINICONDA_URL"
        curl -fsSL --retry 5 -o "$STATE_DIR/miniconda.sh" "$MINICONDA_URL" || die "could not download $MINICONDA_URL"
        bash "$STATE_DIR/miniconda.sh" -b -p "$conda_root" >&2
    fi
    # shellcheck disable=SC1091
    source "$conda_root/etc/profile.d/conda.sh"
    conda tos accept --override-channels --channel https://repo.anaconda.com/pkgs/main >/dev/null 2>&1 || true
    conda tos accept --override-channels --channel https://repo.anaconda.com/pkgs/r >/dev/null 2>&1 || true
    if ! conda env list | awk '{print $1}' | grep -qx "$CONDA_ENV"; then
        log "creating conda env $CONDA_ENV (python $PYTHON_VERSION)"
        conda create -y -q -n "$CONDA_ENV" "python=$PYTHON_VERSION" >&2
    fi
    conda activate "$CONDA_ENV"
    # requirements-tpu.txt leaves versions open; jax and libtpu are pinned to what the SOP verified.
    log "installing pinned jax[tpu]==$JAX_VERSION libtpu==$LIBTPU_VERSION, CPU torch, requirements-tpu.txt, fire"
    pip install -q -U pip >&2
    pip install -q "jax[tpu]==$JAX_VERSION" "libtpu==$LIBTPU_VERSION" -f "$JAX_RELEASES_URL" >&2
    pip install -q torch --index-url "$TORCH_INDEX_URL" >&2
    pip install -q -r "$REPO_DIR/requirements-tpu.txt" >&2
    pip install -q fire >&2
    # requirements-tpu.txt may have moved jax; put the pins back.
    pip install -q "jax[tpu]==$JAX_VERSION" "libtpu==$LIBTPU_VERSION" -f "$JAX_RELEASES_URL" >&2
}

if [[ "$WANDB_KEY_ON_STDIN" == "1" ]]; then
    write_wandb_key
fi
command -v git >/dev/null || die "git is not installed on this worker"
mllm_sha="$(checkout_pinned "$MLLM_URL" "$MLLM_COMMIT" "$REPO_DIR")"
mkdir -p "$REPO_DIR/workdir"
mini_sha="$(checkout_pinned "$MINI_URL" "$MINI_COMMIT" "$REPO_DIR/workdir/MiniOneRec")"
if [[ -f "$REPO_DIR/.env" ]]; then
    log "warning: $REPO_DIR/.env exists, so the runner reads it instead of $HOME/.env"
fi

# The environment is rebuilt only when what it is built from changes.
fingerprint="$(printf '%s\n' "$ENV_MODE" "$CONDA_ENV" "$PYTHON_VERSION" "$JAX_VERSION" "$LIBTPU_VERSION" "${JAX_RELEASES_URL:-}" "${TORCH_INDEX_URL:-}" |
    cat - "$REPO_DIR/requirements-tpu.txt" 2>/dev/null | sha256sum | cut -c1-16)"
marker="$STATE_DIR/env-$fingerprint.done"
reused=true
if [[ ! -f "$marker" ]]; then
    reused=false
    if [[ "$ENV_MODE" == "conda" ]]; then
        require_env MINICONDA_URL JAX_RELEASES_URL TORCH_INDEX_URL
        setup_conda_env
    fi
    touch "$marker"
fi
activate_python
python_version="$(python --version 2>&1 | awk '{print $2}')"
result "{\"host\":$(json_str "$HOST_SHORT"),\"mllmJaxCommit\":$(json_str "$mllm_sha"),\"miniOneRecCommit\":$(json_str "$mini_sha"),\"envMode\":$(json_str "$ENV_MODE"),\"python\":$(json_str "$python_version"),\"envReused\":$reused}"
