select * from video_features
