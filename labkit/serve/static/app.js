// Page du service labkit : envoie une image à /api/predict et affiche la réponse.
// Aucune dépendance, aucune requête vers un autre hôte que le service lui-même.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const number = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 });
  const percent = new Intl.NumberFormat("fr-FR", { style: "percent", maximumFractionDigits: 1 });
  let previewUrl = null;
  let busy = false;

  function setBusy(isBusy, text) {
    busy = isBusy;
    $("progress").hidden = !isBusy;
    $("status-text").textContent = text;
    document.body.setAttribute("aria-busy", String(isBusy));
    document.querySelectorAll(".example-button").forEach((b) => { b.disabled = isBusy; });
  }

  function showError(message) {
    const box = $("error");
    box.textContent = message;
    box.hidden = false;
    $("result").hidden = true;
  }

  function clearError() {
    $("error").hidden = true;
    $("error").textContent = "";
  }

  function showPreview(blob) {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(blob);
    $("preview").src = previewUrl;
  }

  function renderBars(prediction, namesFr) {
    const list = $("probabilities");
    list.replaceChildren();
    const entries = Object.entries(prediction.probabilities).sort((a, b) => b[1] - a[1]);
    for (const [name, probability] of entries) {
      const item = document.createElement("li");
      item.className = "bar-row" + (name === prediction.class_name ? " bar-row-best" : "");
      const label = document.createElement("span");
      label.className = "bar-label";
      label.textContent = namesFr[name] || name;
      const track = document.createElement("span");
      track.className = "bar-track";
      track.setAttribute("aria-hidden", "true");
      const fill = document.createElement("span");
      fill.className = "bar-fill";
      fill.style.width = (100 * probability).toFixed(1) + "%";
      track.appendChild(fill);
      const value = document.createElement("span");
      value.className = "bar-value";
      value.textContent = percent.format(probability);
      item.append(label, track, value);
      list.appendChild(item);
    }
  }

  function renderResult(answer) {
    const prediction = answer.predictions[0];
    $("predicted-class").textContent = prediction.class_name_fr;
    $("predicted-class").dataset.className = prediction.class_name;
    $("predicted-confidence").textContent =
      "(" + percent.format(prediction.probabilities[prediction.class_name]) + ")";
    renderBars(prediction, answer.class_names_fr);
    $("timing").textContent =
      "Temps serveur : prétraitement " + number.format(answer.preprocess_ms) + " ms · inférence " +
      number.format(answer.inference_ms) + " ms · total " + number.format(answer.server_ms) +
      " ms (modèle " + answer.model.format + ").";
    $("result").hidden = false;
  }

  async function readError(response) {
    try {
      const body = await response.json();
      if (body && typeof body.detail === "string") return body.detail;
    } catch (ignored) { /* réponse non JSON */ }
    return "Le service a refusé la requête.";
  }

  async function predict(blob, name) {
    if (busy) return;
    clearError();
    setBusy(true, "Analyse en cours…");
    showPreview(blob);
    const form = new FormData();
    form.append("files", blob, name || "image");
    try {
      const response = await fetch("/api/predict", { method: "POST", body: form });
      if (!response.ok) {
        showError("Erreur " + response.status + " : " + (await readError(response)));
        setBusy(false, "Image refusée.");
        return;
      }
      renderResult(await response.json());
      setBusy(false, "Analyse terminée.");
    } catch (error) {
      showError("Le service ne répond pas. Vérifiez qu'il est démarré, puis réessayez.");
      setBusy(false, "Échec de la connexion.");
    }
  }

  async function predictExample(example) {
    try {
      const response = await fetch(example.url);
      if (!response.ok) throw new Error("exemple indisponible");
      await predict(await response.blob(), "exemple-" + example.index + ".png");
    } catch (error) {
      showError("Impossible de charger cet exemple.");
    }
  }

  function renderExamples(examples) {
    const list = $("examples");
    list.replaceChildren();
    for (const example of examples) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "example-button";
      button.dataset.index = String(example.index);
      button.dataset.testid = "example-" + example.index;
      button.setAttribute("aria-label", "Analyser l'exemple : " + example.class_name_fr);
      const image = document.createElement("img");
      image.src = example.url;
      image.alt = example.alt;
      image.width = 96;
      image.height = 96;
      const caption = document.createElement("span");
      caption.className = "example-caption";
      caption.textContent = example.class_name_fr;
      button.append(image, caption);
      button.addEventListener("click", () => predictExample(example));
      item.appendChild(button);
      list.appendChild(item);
    }
  }

  async function loadModelInfo() {
    try {
      const response = await fetch("/api/health");
      const health = await response.json();
      const m = health.model;
      $("model-info").textContent =
        "Modèle « " + m.name + " » version " + m.version + " (" + m.format + ", images " +
        m.input_size + "×" + m.input_size + ", " + m.class_names.length + " classes).";
      if (health.fallback_used) {
        $("fallback-warning").textContent = "Attention : " + health.fallback_reason;
        $("fallback-warning").hidden = false;
      }
    } catch (error) {
      $("model-info").textContent = "Le service ne répond pas.";
    }
  }

  async function loadExamples() {
    try {
      const response = await fetch("/api/examples");
      renderExamples((await response.json()).examples);
    } catch (error) {
      showError("Impossible de charger les exemples.");
    }
  }

  function onFiles(files) {
    if (!files || files.length === 0) return;
    predict(files[0], files[0].name);
  }

  function setupInputs() {
    for (const id of ["file-input", "camera-input"]) {
      $(id).addEventListener("change", (event) => {
        onFiles(event.target.files);
        event.target.value = "";
      });
    }
    const zone = $("drop-zone");
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("drop-zone-active");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("drop-zone-active"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("drop-zone-active");
      onFiles(event.dataTransfer.files);
    });
  }

  setupInputs();
  loadModelInfo();
  loadExamples();
})();
