#!/usr/bin/env bash
# bootstrap.sh: make this worker ready to run the workload; safe and fast to re-run, and safe on a VM that
# others share: ~/.env keeps its other keys, local changes in a checkout are refused rather than discarded.
# Inputs: ENV_MODE (conda|system-python), CONDA_ENV, PYTHON_VERSION, MINICONDA_URL, JAX_VERSION,
# LIBTPU_VERSION, JAX_RELEASES_URL, TORCH_INDEX_URL, MLLM_URL, MLLM_COMMIT, MINI_URL, MINI_COMMIT,
# WANDB_KEY_ON_STDIN (1: the W&B API key arrives on stdin, never in this command's text).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_env ENV_MODE CONDA_ENV PYTHON_VERSION JAX_VERSION LIBTPU_VERSION MLLM_URL MLLM_COMMIT MINI_URL MINI_COMMIT WANDB_KEY_ON_STDIN
for name in MLLM_COMMIT MINI_COMMIT; do
    [[ "${!name}" =~ ^[0-9a-f]{7,40}$ ]] || die "input ${name}='${!name}' is not a commit SHA (a bug in the command builder)"
done
for name in MLLM_URL MINI_URL; do
    [[ "${!name}" != -* ]] || die "input ${name}='${!name}' starts with '-' (a bug in the command builder)"
done
STATE_DIR="$HOME/.tpu-sft"
mkdir -p "$STATE_DIR"

# --- the W&B key: merged into ~/.env -------------------------------------------------------------------------

# Replaces (or adds) the WANDB_API_KEY line of ~/.env and keeps every other line: on a shared VM the file holds
# other people's keys too. Written to a temporary file beside it (mode 600) and renamed over it, so a reader
# never sees half a file.
merge_wandb_key() {
    local key=""
    IFS= read -r key || true
    # W&B rejects keys with whitespace; a key pasted from Windows carries a CR (seed-repo-facts §7).
    key="${key//$'\r'/}"
    key="${key#"${key%%[![:space:]]*}"}"
    key="${key%"${key##*[![:space:]]}"}"
    [[ -n "$key" ]] || die "WANDB_KEY_ON_STDIN=1 but stdin carried no key"
    [[ "$key" =~ ^[A-Za-z0-9_.-]+$ ]] || die "the W&B API key on stdin has characters a W&B key never has (it is not shown here)"
    local env_file="$HOME/.env" tmp kept=0
    tmp="$(mktemp "$HOME/.env.tpu-sft.XXXXXX")"
    chmod 600 "$tmp"
    if [[ -f "$env_file" ]]; then
        awk '!/^[[:space:]]*(export[[:space:]]+)?WANDB_API_KEY[[:space:]]*=/' "$env_file" >"$tmp" ||
            die "could not read $env_file to merge the W&B key into it"
        kept="$(grep -c . "$tmp" || true)"
    fi
    printf 'WANDB_API_KEY=%s\n' "$key" >>"$tmp"
    mv -f "$tmp" "$env_file"
    log "merged the W&B key into $env_file (mode 600; $kept other line(s) kept)"
}

# --- git, with every failure reported -------------------------------------------------------------------------

GIT_ERR="$STATE_DIR/git.stderr"
GIT_OUT=""

# git_run WHAT ARGS...: runs git ARGS; if it fails, the step fails naming WHAT, with git's own message.
git_run() {
    local what="$1" rc=0
    shift
    git "$@" 2>"$GIT_ERR" || rc=$?
    if ((rc != 0)); then
        die "${what} failed (git exit code ${rc}); git said: $(tail -n 20 "$GIT_ERR")"
    fi
    cat "$GIT_ERR" >&2
}

# git_out WHAT ARGS...: like git_run, and sets GIT_OUT to git's stdout.
git_out() {
    local what="$1" rc=0
    shift
    GIT_OUT="$(git "$@" 2>"$GIT_ERR")" || rc=$?
    if ((rc != 0)); then
        die "${what} failed (git exit code ${rc}); git said: $(tail -n 20 "$GIT_ERR")"
    fi
}

# A .git/index.lock left by a git that was killed blocks every later git command in that repository. It is
# removed only when no git process is working in the repository and no process has it open.
clear_stale_index_lock() {
    local dir lock proc comm cwd holders=()
    dir="$(cd "$1" && pwd -P)"
    lock="$dir/.git/index.lock"
    [[ -e "$lock" ]] || return 0
    for proc in /proc/[0-9]*; do
        comm=""
        read -r comm 2>/dev/null <"$proc/comm" || continue
        [[ "$comm" == git || "$comm" == git-* ]] || continue
        cwd="$(readlink "$proc/cwd" 2>/dev/null || true)"
        if [[ "$cwd" == "$dir" || "$cwd" == "$dir/"* ]]; then holders+=("${proc#/proc/}"); fi
    done
    mapfile -t -O "${#holders[@]}" holders < <(file_holders "$lock")
    if ((${#holders[@]} > 0)); then
        mapfile -t holders < <(printf '%s\n' "${holders[@]}" | sort -un)
        die "$lock exists and git is still working in $dir: $(describe_pids "${holders[@]}"). Bootstrap stops rather than break that git; let it finish (or stop it), then run \`pulumi up\` again"
    fi
    log "removing stale $lock (no git process is working in $dir)"
    rm -f "$lock"
}

# Tracked files someone changed on the VM are theirs: refuse to switch commits over them.
refuse_local_changes() {
    local dir="$1" changed count shown
    # A clone made with --no-checkout has no index yet and nothing to lose.
    [[ -f "$dir/.git/index" ]] || return 0
    git_out "git status in $dir" -C "$dir" status --porcelain --untracked-files=no
    [[ -n "$GIT_OUT" ]] || return 0
    changed="$(printf '%s\n' "$GIT_OUT" | cut -c4-)"
    count="$(printf '%s\n' "$changed" | wc -l)"
    shown="$(printf '%s\n' "$changed" | head -n 10 | paste -sd ' ' -)"
    if ((count > 10)); then shown+=" (and $((count - 10)) more)"; fi
    die "the checkout $dir has local changes to ${count} tracked file(s): ${shown}. Bootstrap will not discard them. Fix: on this worker keep them with \`git -C $dir stash\` (or commit them elsewhere), or drop them with \`git -C $dir checkout -- .\`; then run \`pulumi up\` again"
}

# Clone if missing, fetch only when the commit is not there yet, then a detached checkout of exactly that
# commit, checked afterwards. Never `git clean`: logs/ is not ignored upstream and would be deleted.
# Sets CHECKED_OUT to the full SHA.
CHECKED_OUT=""
checkout_pinned() {
    local url="$1" commit="$2" dir="$3" full
    if [[ ! -d "$dir/.git" ]]; then
        log "cloning $url into $dir"
        git_run "git clone of $url into $dir" clone --quiet --no-checkout -- "$url" "$dir"
    fi
    clear_stale_index_lock "$dir"
    git_run "git remote set-url origin $url in $dir" -C "$dir" remote set-url origin -- "$url"
    if ! git -C "$dir" cat-file -e --end-of-options "${commit}^{commit}" 2>/dev/null; then
        log "fetching $url for $commit"
        git_run "git fetch of $url" -C "$dir" fetch --quiet --tags -- origin '+refs/heads/*:refs/remotes/origin/*'
        if ! git -C "$dir" cat-file -e --end-of-options "${commit}^{commit}" 2>/dev/null; then
            # A commit no branch or tag reaches: ask for it by SHA, which most servers allow.
            git -C "$dir" fetch --quiet -- origin "$commit" 2>"$GIT_ERR" ||
                die "commit $commit is not in $url (check repos.*.commit); git said: $(tail -n 5 "$GIT_ERR")"
        fi
    fi
    git_out "resolving commit $commit in $dir (is it in $url? check repos.*.commit)" \
        -C "$dir" rev-parse --verify --quiet --end-of-options "${commit}^{commit}"
    full="$GIT_OUT"
    [[ "$full" == "$commit"* ]] || die "commit $commit resolved to $full in $dir, which is another commit"
    refuse_local_changes "$dir"
    git_run "git checkout of $full in $dir" -C "$dir" -c advice.detachedHead=false checkout --quiet --detach "$full" --
    git_out "reading HEAD of $dir" -C "$dir" rev-parse --verify HEAD
    [[ "$GIT_OUT" == "$full" ]] ||
        die "after the checkout, HEAD of $dir is $GIT_OUT, not the pinned commit $commit ($full); the workload would run other code"
    log "checked out $full in $dir"
    CHECKED_OUT="$full"
}

# --- the Python environment -----------------------------------------------------------------------------------

# run_or_die WHAT COMMAND...: runs COMMAND with its output on stderr; its failure fails the step, naming WHAT.
run_or_die() {
    local what="$1" rc=0
    shift
    "$@" >&2 || rc=$?
    ((rc == 0)) || die "${what} failed (exit code ${rc}; its output is above)"
}

setup_conda_env() {
    local conda_root="$HOME/miniconda3"
    if [[ ! -x "$conda_root/bin/conda" ]]; then
        log "installing Miniconda from $MINICONDA_URL"
        run_or_die "downloading $MINICONDA_URL" curl -fsSL --retry 5 -o "$STATE_DIR/miniconda.sh" "$MINICONDA_URL"
        run_or_die "installing Miniconda" bash "$STATE_DIR/miniconda.sh" -b -p "$conda_root"
    fi
    # shellcheck disable=SC1091
    source "$conda_root/etc/profile.d/conda.sh"
    conda tos accept --override-channels --channel https://repo.anaconda.com/pkgs/main >/dev/null 2>&1 || true
    conda tos accept --override-channels --channel https://repo.anaconda.com/pkgs/r >/dev/null 2>&1 || true
    local envs
    envs="$(conda env list)"
    if ! awk '{print $1}' <<<"$envs" | grep -qxF -- "$CONDA_ENV"; then
        log "creating conda env $CONDA_ENV (python $PYTHON_VERSION)"
        run_or_die "conda create of $CONDA_ENV" conda create -y -q -n "$CONDA_ENV" "python=$PYTHON_VERSION"
    fi
    conda activate "$CONDA_ENV"
    # requirements-tpu.txt leaves versions open; jax and libtpu are pinned to what the SOP verified.
    log "installing pinned jax[tpu]==$JAX_VERSION libtpu==$LIBTPU_VERSION, CPU torch, requirements-tpu.txt, fire"
    run_or_die "pip install -U pip" pip install -q -U pip
    run_or_die "pip install of jax and libtpu" pip install -q "jax[tpu]==$JAX_VERSION" "libtpu==$LIBTPU_VERSION" -f "$JAX_RELEASES_URL"
    run_or_die "pip install of CPU torch" pip install -q torch --index-url "$TORCH_INDEX_URL"
    run_or_die "pip install of requirements-tpu.txt" pip install -q -r "$REPO_DIR/requirements-tpu.txt"
    run_or_die "pip install of fire" pip install -q fire
    # requirements-tpu.txt may have moved jax; put the pins back.
    run_or_die "pip install of the jax and libtpu pins" pip install -q "jax[tpu]==$JAX_VERSION" "libtpu==$LIBTPU_VERSION" -f "$JAX_RELEASES_URL"
}

# --- the steps --------------------------------------------------------------------------------------------------

if [[ "$WANDB_KEY_ON_STDIN" == "1" ]]; then
    merge_wandb_key
fi
command -v git >/dev/null || die "git is not installed on this worker"
checkout_pinned "$MLLM_URL" "$MLLM_COMMIT" "$REPO_DIR"
mllm_sha="$CHECKED_OUT"
mkdir -p "$REPO_DIR/workdir"
checkout_pinned "$MINI_URL" "$MINI_COMMIT" "$REPO_DIR/workdir/MiniOneRec"
mini_sha="$CHECKED_OUT"
if [[ -f "$REPO_DIR/.env" ]]; then
    log "warning: $REPO_DIR/.env exists, so the runner reads it instead of $HOME/.env"
fi

# The environment is rebuilt only when what it is built from changes.
requirements="$REPO_DIR/requirements-tpu.txt"
[[ -f "$requirements" ]] || die "$requirements is missing at commit $mllm_sha"
fingerprint="$({
    printf '%s\n' "$ENV_MODE" "$CONDA_ENV" "$PYTHON_VERSION" "$JAX_VERSION" "$LIBTPU_VERSION" "${JAX_RELEASES_URL:-}" "${TORCH_INDEX_URL:-}"
    cat "$requirements"
} | sha256sum | cut -c1-16)"
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
python_found="$(python --version 2>&1 | awk '{print $2}')"
result_object host str "$HOST_SHORT" mllmJaxCommit str "$mllm_sha" miniOneRecCommit str "$mini_sha" \
    envMode str "$ENV_MODE" python str "$python_found" envReused bool "$reused"
