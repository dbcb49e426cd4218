// Rebound console: follows a live run without reloading. The run page's #live names the fragment to poll (data-live); every second it fetches it and swaps it in, until the fragment says the run is final.
'use strict';
(function () {
  var region = document.getElementById('live');
  if (!region || !region.dataset.live) return;
  var url = region.dataset.live;
  var INTERVAL_MS = 1000;

  function isFinal() {
    var body = document.getElementById('live-body');
    return !!body && body.dataset.final === 'true';
  }

  // Someone typing a reason keeps their text: no swap while a field in the region holds focus or words.
  function busy() {
    var active = document.activeElement;
    if (active && region.contains(active) && (active.tagName === 'TEXTAREA' || active.tagName === 'INPUT')) return true;
    var fields = region.querySelectorAll('textarea');
    for (var i = 0; i < fields.length; i++) if (fields[i].value) return true;
    return false;
  }

  function say(text) {
    var note = document.getElementById('live-note');
    if (!note) {
      note = document.createElement('p');
      note.id = 'live-note';
      note.className = 'hint';
      note.setAttribute('role', 'status');
      region.parentNode.insertBefore(note, region);
    }
    note.textContent = text;
  }

  function tick() {
    if (isFinal()) return;
    if (busy()) return void setTimeout(tick, INTERVAL_MS);
    fetch(url, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (response) {
        if (response.status === 401) {
          say('You were signed out; reload the page to sign in again.');
          return null;
        }
        return response.ok ? response.text() : '';
      })
      .then(function (html) {
        if (html === null) return;
        if (html && !busy()) {
          var open = Array.prototype.map.call(region.querySelectorAll('details[open]'), function (d) {
            return d.parentNode && d.closest('tr') ? d.closest('tr').rowIndex : -1;
          });
          region.innerHTML = html;
          // Outputs a reader opened stay open across the swap.
          var rows = region.querySelectorAll('#steps tr');
          open.forEach(function (index) {
            var row = rows[index];
            var details = row && row.querySelector('details');
            if (details) details.open = true;
          });
        }
        setTimeout(tick, INTERVAL_MS);
      })
      .catch(function () {
        say('The console is not answering; still trying.');
        setTimeout(tick, INTERVAL_MS * 3);
      });
  }

  setTimeout(tick, INTERVAL_MS);
})();
