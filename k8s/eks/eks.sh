#!/usr/bin/env bash
# The workshop on Amazon EKS in one command (docs/workshop.md):
#
#   k8s/eks/eks.sh up      IAM policies, cluster, KEDA and the ACK controllers, images, the shop,
#                          the saved Logs Insights queries; waits until it all runs
#   k8s/eks/eks.sh down    the reverse: the AWS resources through their ACK objects first, then
#                          the controllers, the images, the cluster, the policies, the log groups
#   k8s/eks/eks.sh plan    the same as `up --dry-run`: prints every command, runs none
#
# Every command is printed (`+ ...`) before it runs, quoted so that it can be pasted from the
# repository root. Running `up` again updates what exists and creates what is missing. With
# --dry-run nothing is run and AWS is never asked: what `up` would look up is assumed absent
# (`down`: present), so the plan shows a first run in full without credentials.
#
# Settings (environment): AWS_REGION (us-west-2), CLUSTER_NAME (lantern-workshop), IMAGE_TAG
# (0.1.0), AWS_ACCOUNT_ID (from `aws sts get-caller-identity`), ALARM_EMAIL (subscribe this
# address to the alarms' topic), LAB=blog (deploy k8s/overlays/eks-lab instead of eks).
# Chart versions: k8s/eks/versions.env. Needs aws, eksctl, kubectl, helm, docker buildx, envsubst.
set -euo pipefail

ROOT=$(cd "${BASH_SOURCE[0]%/*}/../.." && pwd)
cd "$ROOT"
exec 3>&1 # the trace goes to the terminal, also from inside $(...)

NAMESPACE=lantern
IMAGES="frontend producer consumer load"
DEPLOYMENTS="otel-collector producer consumer frontend"
ACK_SERVICES="cloudwatch sqs dynamodb sns"
ACK_REGISTRY=public.ecr.aws
ACK_CHARTS=oci://$ACK_REGISTRY/aws-controllers-k8s
KEDA_CHARTS=https://kedacore.github.io/charts
# The ACK kinds the overlays declare; `kubectl wait` waits for every object of each.
ACK_KINDS=queues.sqs.services.k8s.aws,tables.dynamodb.services.k8s.aws,topics.sns.services.k8s.aws,metricalarms.cloudwatch.services.k8s.aws
PARAMS=k8s/overlays/eks/params.env
ALARM_EMAIL_TEMPLATE=k8s/components/aws-resources/alarm-email-subscription.yaml.tmpl
EXAMPLE_ACCOUNT_ID=111122223333
# Only these are replaced: an IAM policy may hold its own ${aws:...} variables.
# shellcheck disable=SC2016
SUBST_VARS='${AWS_REGION} ${AWS_ACCOUNT_ID} ${CLUSTER_NAME}'
# shellcheck disable=SC2016
ALARM_EMAIL_VARS='${ALARM_EMAIL} ${AWS_REGION} ${AWS_ACCOUNT_ID}'

DRY_RUN=0
ASSUME=absent # what a dry run takes a lookup to find

# --- printing and running ------------------------------------------------------------------

say() { printf '%s\n' "$*" >&3; }
step() { printf '\n== %s\n' "$*" >&3; }
note() { printf '# %s\n' "$*" >&3; }
die() {
  printf 'eks.sh: %s\n' "$*" >&2
  exit 1
}

# Shell words that paste back as the same arguments: plain ones bare, the rest quoted (double
# quotes for a word with single quotes and nothing a shell expands inside double quotes).
quote() {
  local out="" arg plain='^[A-Za-z0-9_@%+=:,./-]+$' inert='^[^$`\\"!]*$'
  for arg in "$@"; do
    if [[ $arg =~ $plain ]]; then
      out+=" $arg"
    elif [[ $arg == *"'"* && $arg =~ $inert ]]; then
      out+=" \"$arg\""
    else
      out+=" '${arg//\'/\'\\\'\'}'"
    fi
  done
  printf '%s' "${out# }"
}

# run [--probe [--placeholder TEXT]] [--sh] COMMAND...
#   Print the command, then run it (a dry run only prints it).
#   --sh     COMMAND is one shell line (a pipe, a redirection): printed as is, run with eval.
#   --probe  a lookup (does it exist? its id?): its output is the answer, its errors mean
#            "absent". A dry run does not ask: it prints the lookup as a comment and answers
#            $ASSUME ("present": prints TEXT and succeeds).
run() {
  local probe=0 shell=0 placeholder="" line
  while (($#)); do
    case $1 in
      --probe) probe=1 ;;
      --placeholder)
        placeholder=$2
        shift
        ;;
      --sh) shell=1 ;;
      *) break ;;
    esac
    shift
  done
  if ((shell)); then line=$1; else line=$(quote "$@"); fi
  if ((DRY_RUN)); then
    if ((probe)); then
      say "# lookup, assumed $ASSUME: $line"
      [[ $ASSUME == present ]] || return 1
      [[ -z $placeholder ]] || printf '%s\n' "$placeholder"
      return 0
    fi
    say "+ $line"
    return 0
  fi
  say "+ $line"
  if ((probe)); then
    if ((shell)); then eval "$1" 2>/dev/null; else "$@" 2>/dev/null; fi
  elif ((shell)); then
    eval "$1"
  else
    "$@"
  fi
}

# Write FILE unless it already holds CONTENT; printed as the heredoc that writes it.
write_file() {
  local file=$1 content=$2
  say "+ cat > $(quote "$file") <<'EOF'"
  say "$content"
  say "EOF"
  ((DRY_RUN)) && return 0
  if [[ -f $file && "$(<"$file")" == "$content" ]]; then
    note "$file: unchanged"
  else
    printf '%s\n' "$content" >"$file"
  fi
}

# --- settings --------------------------------------------------------------------------------

check_tools() {
  local missing="" tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=" $tool"
  done
  if [[ " $* " == *" docker "* && $missing != *docker* ]] && ((!DRY_RUN)); then
    docker buildx version >/dev/null 2>&1 || missing+=" docker-buildx"
  fi
  [[ -z $missing ]] && return 0
  if ((DRY_RUN)); then
    note "warning: not installed:$missing (a dry run needs none of them; a real run does)"
  else
    die "not installed:$missing (docs/workshop.md, step 0, lists the tools and where to get them)"
  fi
}

# Chart versions, read (not sourced) from k8s/eks/versions.env: NAME_CHART_VERSION=x.y.z lines.
read_versions() {
  local key value
  while IFS='=' read -r key value; do
    [[ $key =~ ^[A-Z_]+_CHART_VERSION$ ]] || continue
    printf -v "$key" '%s' "$value"
  done <k8s/eks/versions.env
  for key in KEDA_CHART_VERSION ACK_CLOUDWATCH_CHART_VERSION ACK_SQS_CHART_VERSION \
    ACK_DYNAMODB_CHART_VERSION ACK_SNS_CHART_VERSION; do
    [[ -n ${!key-} ]] || die "k8s/eks/versions.env has no $key"
  done
}

ack_version() {
  case $1 in
    cloudwatch) printf '%s' "$ACK_CLOUDWATCH_CHART_VERSION" ;;
    sqs) printf '%s' "$ACK_SQS_CHART_VERSION" ;;
    dynamodb) printf '%s' "$ACK_DYNAMODB_CHART_VERSION" ;;
    sns) printf '%s' "$ACK_SNS_CHART_VERSION" ;;
    *) die "no chart version for ACK $1" ;;
  esac
}

settings() {
  AWS_REGION=${AWS_REGION:-us-west-2}
  CLUSTER_NAME=${CLUSTER_NAME:-lantern-workshop}
  IMAGE_TAG=${IMAGE_TAG:-0.1.0}
  ALARM_EMAIL=${ALARM_EMAIL:-}
  case ${LAB:-} in
    "") OVERLAY=k8s/overlays/eks ;;
    blog) OVERLAY=k8s/overlays/eks-lab ;;
    *) die "LAB=${LAB}: the labs are LAB=blog (k8s/overlays/eks-lab) or none (k8s/overlays/eks)" ;;
  esac
  if [[ -n ${AWS_ENDPOINT_URL:-} ]]; then
    ((DRY_RUN)) || die "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL points the AWS CLI at an emulator: unset it"
    note "warning: AWS_ENDPOINT_URL is set; a real run refuses it"
  fi
  if [[ ! -d $OVERLAY ]]; then
    ((DRY_RUN)) || die "$OVERLAY does not exist in this checkout"
    note "warning: $OVERLAY does not exist in this checkout"
  fi
  if [[ $IMAGE_TAG != 0.1.0 ]]; then
    note "warning: the manifests (k8s/base) run the :0.1.0 images; IMAGE_TAG=$IMAGE_TAG only tags what is pushed"
  fi
  read_versions
  account_id
  REGISTRY=$AWS_ACCOUNT_ID.dkr.ecr.$AWS_REGION.amazonaws.com
  APP_LOG_GROUP=/aws/containerinsights/$CLUSTER_NAME/application
  export AWS_REGION CLUSTER_NAME AWS_ACCOUNT_ID ALARM_EMAIL
  say "+ export $(quote "AWS_REGION=$AWS_REGION" "AWS_ACCOUNT_ID=$AWS_ACCOUNT_ID" \
    "CLUSTER_NAME=$CLUSTER_NAME")"
  note "from the repository root, $ROOT; overlay $OVERLAY; image tag $IMAGE_TAG"
}

account_id() {
  [[ -n ${AWS_ACCOUNT_ID:-} ]] && return 0
  if ((DRY_RUN)); then
    note "dry run: AWS is not asked for the account id; $EXAMPLE_ACCOUNT_ID stands in (set AWS_ACCOUNT_ID for yours)"
    AWS_ACCOUNT_ID=$EXAMPLE_ACCOUNT_ID
    return 0
  fi
  AWS_ACCOUNT_ID=$(run aws sts get-caller-identity --query Account --output text) ||
    die "could not read your account id: are AWS credentials set up (aws configure, aws sso login)?"
}

policy_names() {
  local file
  for file in k8s/iam/*.json; do
    file=${file##*/}
    printf '%s\n' "${file%.json}"
  done
}

query_files() { printf '%s\n' k8s/eks/queries/*.txt; }
query_name() {
  local file=${1##*/}
  printf 'lantern-shop/%s' "${file%.txt}"
}

log_groups() {
  printf '%s\n' /lantern-shop/metrics
  local kind
  for kind in application dataplane host performance; do
    printf '%s\n' "/aws/containerinsights/$CLUSTER_NAME/$kind"
  done
}

squash() { printf '%s' "${1//[[:space:]]/}"; }

# --- up --------------------------------------------------------------------------------------

up_policy() {
  local name=$1 file=k8s/iam/$1.json arn version current wanted old
  arn=arn:aws:iam::$AWS_ACCOUNT_ID:policy/$name
  if ! version=$(run --probe aws iam get-policy --policy-arn "$arn" \
    --query Policy.DefaultVersionId --output text); then
    run --sh "aws iam create-policy --policy-name $(quote "$name") --policy-document \"\$(envsubst $(quote "$SUBST_VARS") < $(quote "$file"))\" --query Policy.Arn --output text"
    return 0
  fi
  current=$(run --probe aws iam get-policy-version --policy-arn "$arn" --version-id "$version" \
    --query PolicyVersion.Document --output json) || current=""
  wanted=$(envsubst "$SUBST_VARS" <"$file")
  if [[ "$(squash "$current")" == "$(squash "$wanted")" ]]; then
    note "$name: unchanged"
    return 0
  fi
  # A policy keeps at most 5 versions: make room by dropping the oldest non-default one.
  old=$(run --probe aws iam list-policy-versions --policy-arn "$arn" \
    --query 'sort_by(Versions[?!IsDefaultVersion], &CreateDate)[].VersionId' --output text) || old=""
  read -r -a old <<<"$old"
  if ((${#old[@]} >= 4)); then
    run aws iam delete-policy-version --policy-arn "$arn" --version-id "${old[0]}"
  fi
  run --sh "aws iam create-policy-version --policy-arn $(quote "$arn") --policy-document \"\$(envsubst $(quote "$SUBST_VARS") < $(quote "$file"))\" --set-as-default --query PolicyVersion.VersionId --output text"
}

up_cluster() {
  if run --probe eksctl get cluster --name "$CLUSTER_NAME" --region "$AWS_REGION" >/dev/null; then
    note "cluster $CLUSTER_NAME exists (its file's later changes are not applied; docs/workshop.md)"
    run aws eks update-kubeconfig --name "$CLUSTER_NAME" --region "$AWS_REGION"
  else
    note "15 to 25 minutes"
    run --sh "envsubst $(quote "$SUBST_VARS") < k8s/eks/cluster.yaml | eksctl create cluster -f -"
  fi
}

up_controllers() {
  run helm upgrade --install keda keda --repo "$KEDA_CHARTS" --namespace keda --create-namespace \
    --version "$KEDA_CHART_VERSION" --wait
  run --sh "aws ecr-public get-login-password --region us-east-1 | helm registry login --username AWS --password-stdin $ACK_REGISTRY"
  local service
  for service in $ACK_SERVICES; do
    run helm upgrade --install "ack-$service-controller" "$ACK_CHARTS/$service-chart" \
      --namespace ack-system --create-namespace --version "$(ack_version "$service")" \
      --set "aws.region=$AWS_REGION" --wait
  done
}

up_images() {
  local image
  run --sh "aws ecr get-login-password | docker login --username AWS --password-stdin $(quote "$REGISTRY")"
  for image in $IMAGES; do
    run --probe aws ecr describe-repositories --repository-names "lantern-shop/$image" \
      --query 'repositories[0].repositoryUri' --output text >/dev/null ||
      run aws ecr create-repository --repository-name "lantern-shop/$image" \
        --query repository.repositoryUri --output text
  done
  local service
  for service in frontend:8080 producer:8081 consumer:8082; do
    run docker buildx build --platform linux/amd64 -f services/Dockerfile \
      --build-arg "SERVICE=${service%:*}" --build-arg "PORT=${service#*:}" \
      -t "$REGISTRY/lantern-shop/${service%:*}:$IMAGE_TAG" --push .
  done
  run docker buildx build --platform linux/amd64 -f services/Dockerfile --target load \
    --build-arg SERVICE=load --build-arg SOURCE=tools/load \
    -t "$REGISTRY/lantern-shop/load:$IMAGE_TAG" --push .
}

params_content() {
  printf '%s\n' \
    "# Written by k8s/eks/eks.sh up (make eks-up) for this account; eks.sh down puts the example back." \
    "AWS_REGION=$AWS_REGION" \
    "AWS_ACCOUNT_ID=$AWS_ACCOUNT_ID" \
    "CLUSTER_NAME=$CLUSTER_NAME" \
    "IMAGE_REPOSITORY=$REGISTRY/lantern-shop" \
    "TRACE_UI_URL=https://$AWS_REGION.console.aws.amazon.com/cloudwatch/home?region=$AWS_REGION#xray:traces/{xray_trace_id}"
}

up_shop() {
  write_file "$PARAMS" "$(params_content)"
  run kubectl apply -k "$OVERLAY"
  if [[ -n $ALARM_EMAIL ]]; then
    run --sh "envsubst $(quote "$ALARM_EMAIL_VARS") < $ALARM_EMAIL_TEMPLATE | kubectl apply -f -"
    note "$ALARM_EMAIL gets a confirmation mail from AWS Notifications: confirm it to receive the alarms"
  fi
  if run --probe kubectl -n "$NAMESPACE" get secret frontend-session -o name >/dev/null; then
    note "secret frontend-session exists"
  else
    # The key is made in the pasted line itself, so it never shows in the output.
    run --sh "kubectl -n $NAMESPACE create secret generic frontend-session --from-literal=SECRET_KEY=\"\$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n')\""
  fi
}

query_id() {
  local name=$1
  run --probe --placeholder "<id-of-$name>" aws logs describe-query-definitions \
    --query-definition-name-prefix "$name" \
    --query "queryDefinitions[?name=='$name'].queryDefinitionId" --output text
}

up_queries() {
  local file name id
  while read -r file; do
    name=$(query_name "$file")
    id=$(query_id "$name") || id=""
    read -r id _ <<<"$id" || true
    if [[ -n $id && $id != None ]]; then
      run aws logs put-query-definition --name "$name" --query-definition-id "$id" \
        --log-group-names "$APP_LOG_GROUP" --query-string "file://$file" \
        --query queryDefinitionId --output text
    else
      run aws logs put-query-definition --name "$name" \
        --log-group-names "$APP_LOG_GROUP" --query-string "file://$file" \
        --query queryDefinitionId --output text
    fi
  done < <(query_files)
}

up_wait() {
  # ACK.ResourceSynced (aws-controllers-k8s/runtime, apis/core/v1alpha1): True once the AWS
  # resource matches its object, e.g. the table ACTIVE.
  run kubectl -n "$NAMESPACE" wait --for=condition=ACK.ResourceSynced --all --timeout=10m \
    "$ACK_KINDS"
  local deployment
  for deployment in $DEPLOYMENTS; do
    run kubectl -n "$NAMESPACE" rollout status "deployment/$deployment" --timeout=5m
  done
}

up_next() {
  local console="https://$AWS_REGION.console.aws.amazon.com/cloudwatch/home?region=$AWS_REGION"
  step "Next"
  say "The shop:      kubectl -n $NAMESPACE port-forward svc/frontend 8080:8080   then http://localhost:8080"
  say "Dashboard:     lantern-shop   $console#dashboards/dashboard/lantern-shop"
  say "Trace map:     X-Ray          $console#xray:service-map/map"
  say "Logs:          $APP_LOG_GROUP   (Logs Insights, saved queries lantern-shop/*: $console#logsV2:logs-insights)"
  say "Clean up:      make eks-down"
}

up() {
  step "Tools"
  check_tools aws eksctl kubectl helm docker envsubst
  step "Settings"
  settings
  if [[ -n $ALARM_EMAIL && ! -f $ALARM_EMAIL_TEMPLATE ]]; then
    ((DRY_RUN)) || die "ALARM_EMAIL is set but $ALARM_EMAIL_TEMPLATE does not exist"
    note "warning: $ALARM_EMAIL_TEMPLATE does not exist in this checkout"
  fi
  step "IAM policies (k8s/iam)"
  local name
  while read -r name; do up_policy "$name"; done < <(policy_names)
  step "Cluster $CLUSTER_NAME"
  up_cluster
  step "KEDA and the ACK controllers (k8s/eks/versions.env)"
  up_controllers
  step "Images"
  up_images
  step "The shop ($OVERLAY)"
  up_shop
  step "Saved Logs Insights queries (k8s/eks/queries)"
  up_queries
  step "Waiting for the AWS resources and the rollouts"
  up_wait
  up_next
}

# --- down ------------------------------------------------------------------------------------

# Not called in a condition (`f || ...` would switch set -e off inside it): a failed delete must
# stop the script before the controllers that would delete the AWS resources are uninstalled.
down_kubernetes() {
  run aws eks update-kubeconfig --name "$CLUSTER_NAME" --region "$AWS_REGION"
  # First, with the controllers still running: they delete the queue, table, topic and alarms.
  run kubectl delete -k "$OVERLAY" --wait --ignore-not-found --timeout=15m
  local release service
  for service in $ACK_SERVICES; do
    release=ack-$service-controller
    if run --probe helm status "$release" --namespace ack-system >/dev/null; then
      run helm uninstall "$release" --namespace ack-system
    fi
  done
  if run --probe helm status keda --namespace keda >/dev/null; then
    run helm uninstall keda --namespace keda
  fi
}

down_images() {
  local image
  for image in $IMAGES; do
    if run --probe aws ecr describe-repositories --repository-names "lantern-shop/$image" \
      --query 'repositories[0].repositoryUri' --output text >/dev/null; then
      run aws ecr delete-repository --repository-name "lantern-shop/$image" --force \
        --query repository.repositoryName --output text
    fi
  done
}

down_policy() {
  local name=$1 arn versions version
  arn=arn:aws:iam::$AWS_ACCOUNT_ID:policy/$name
  run --probe aws iam get-policy --policy-arn "$arn" --query Policy.Arn --output text \
    >/dev/null || return 0
  versions=$(run --probe --placeholder "<non-default-version>" aws iam list-policy-versions \
    --policy-arn "$arn" --query 'Versions[?!IsDefaultVersion].VersionId' --output text) ||
    versions=""
  for version in $versions; do
    run aws iam delete-policy-version --policy-arn "$arn" --version-id "$version"
  done
  run aws iam delete-policy --policy-arn "$arn"
}

down_queries() {
  local file name ids id
  while read -r file; do
    name=$(query_name "$file")
    ids=$(query_id "$name") || ids=""
    for id in $ids; do
      [[ $id == None ]] || run aws logs delete-query-definition --query-definition-id "$id"
    done
  done < <(query_files)
}

down_log_groups() {
  local group found
  while read -r group; do
    found=$(run --probe --placeholder "$group" aws logs describe-log-groups \
      --log-group-name-prefix "$group" \
      --query "logGroups[?logGroupName=='$group'].logGroupName" --output text) || found=""
    if [[ -n $found && $found != None ]]; then
      run aws logs delete-log-group --log-group-name "$group"
    fi
  done < <(log_groups)
}

# params.env goes back to the example only when it holds exactly what `up` wrote for these
# settings: an edit of yours is never thrown away.
down_params() {
  if ((DRY_RUN)); then
    note "$PARAMS: restored (git checkout) if it holds exactly what up wrote, else left as is"
    return 0
  fi
  if ! command -v git >/dev/null 2>&1 || ! git ls-files --error-unmatch "$PARAMS" >/dev/null 2>&1; then
    note "$PARAMS: left as is (not a git checkout)"
  elif git diff --quiet -- "$PARAMS"; then
    note "$PARAMS: already the example"
  elif [[ "$(<"$PARAMS")" == "$(params_content)" ]]; then
    run git checkout -- "$PARAMS"
  else
    note "$PARAMS: left as is (it has edits up did not make; 'git checkout -- $PARAMS' restores the example)"
  fi
}

down() {
  ASSUME=present
  step "Tools"
  check_tools aws eksctl kubectl helm
  step "Settings"
  settings
  step "The shop, its AWS resources, KEDA and the ACK controllers"
  local cluster=0
  if run --probe eksctl get cluster --name "$CLUSTER_NAME" --region "$AWS_REGION" >/dev/null; then
    cluster=1
    down_kubernetes
  else
    note "no cluster $CLUSTER_NAME: nothing to delete in Kubernetes"
  fi
  step "Images"
  down_images
  step "Cluster $CLUSTER_NAME"
  if ((cluster)); then
    run eksctl delete cluster --name "$CLUSTER_NAME" --region "$AWS_REGION" --wait
  fi
  step "IAM policies (k8s/iam)"
  local name
  while read -r name; do down_policy "$name"; done < <(policy_names)
  step "Saved Logs Insights queries"
  down_queries
  step "Log groups"
  down_log_groups
  step "$PARAMS"
  down_params
}

usage() {
  say "usage: k8s/eks/eks.sh up|down|plan [--dry-run]   (plan = up --dry-run)"
}

main() {
  local command="" arg
  for arg in "$@"; do
    case $arg in
      --dry-run) DRY_RUN=1 ;;
      up | down | plan) command=$arg ;;
      -h | --help)
        usage
        return 0
        ;;
      *)
        usage
        return 2
        ;;
    esac
  done
  case $command in
    up) up ;;
    down) down ;;
    plan)
      DRY_RUN=1
      up
      ;;
    *)
      usage
      return 2
      ;;
  esac
  if ((DRY_RUN)); then note "dry run: nothing was run"; fi
}

main "$@"
