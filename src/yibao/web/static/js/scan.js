/* Counter simulator: read the 医保码 from a photo/image or the camera with jsQR (vendored). */
(function () {
  "use strict";
  var target = document.getElementById("qr_code");
  var status = document.getElementById("scan-status");
  var fileInput = document.getElementById("qr_image");
  var startBtn = document.getElementById("camera-start");
  var video = document.getElementById("camera");
  if (!target || typeof jsQR === "undefined") { return; }

  function say(text) { if (status) { status.textContent = text; } }

  function decode(source, width, height) {
    var canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    var ctx = canvas.getContext("2d");
    ctx.drawImage(source, 0, 0, width, height);
    var data = ctx.getImageData(0, 0, width, height);
    var found = jsQR(data.data, width, height);
    return found ? found.data : null;
  }

  function found(text) {
    target.value = text;
    say("已读取医保码，请点击“识别”");
  }

  if (fileInput) {
    fileInput.addEventListener("change", function () {
      var file = fileInput.files && fileInput.files[0];
      if (!file) { return; }
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        var text = decode(img, img.naturalWidth, img.naturalHeight);
        URL.revokeObjectURL(url);
        if (text) { found(text); } else { say("图片中没有找到二维码，请重拍或粘贴码值"); }
      };
      img.onerror = function () { say("无法读取该图片"); };
      img.src = url;
    });
  }

  if (startBtn && video && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    startBtn.hidden = false;
    startBtn.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        video.play();
        say("请将医保码对准摄像头");
        var tick = function () {
          if (video.readyState === video.HAVE_ENOUGH_DATA) {
            var text = decode(video, video.videoWidth, video.videoHeight);
            if (text) {
              stream.getTracks().forEach(function (t) { t.stop(); });
              video.hidden = true;
              found(text);
              return;
            }
          }
          requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      }).catch(function () { say("无法打开摄像头，请拍照或粘贴码值"); });
    });
  }
})();
