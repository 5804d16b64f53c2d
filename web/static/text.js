// The page's texts for scripts, in the page's language (see web/i18n.py JS_TEXT):
// text("key", {n: 3}) fills {n} placeholders.
window.fpText = (function () {
  "use strict";
  var node = document.getElementById("fp-text");
  var table = node ? JSON.parse(node.textContent) : {};
  return function (key, values) {
    var template = table[key] || key;
    return template.replace(/\{(\w+)\}/g, function (_, name) {
      return values && name in values ? values[name] : "{" + name + "}";
    });
  };
})();
